#!/usr/bin/env bash
# Restore a dump made by ops/backup.sh into a new database and check it
# (docs/deploy.md, "Backups"): the schema is at this release's migration head and the
# contacts are there. The database is dropped afterwards unless --keep is given.
#
#   ops/restore_check.sh DUMP TARGET_DATABASE [--keep]
#
# DUMP may be encrypted (.gpg, decrypted with the local GnuPG key). Connection to the
# server as for ops/backup.sh (DATABASE_URL or the libpq variables); the target is created
# there, owned by the connecting role (--no-owner: the original roles need not exist).
# Run from the release's checkout with its venv's flask on PATH or in FLASK.
set -euo pipefail

dump=${1:?usage: ops/restore_check.sh DUMP TARGET_DATABASE [--keep]}
target=${2:?usage: ops/restore_check.sh DUMP TARGET_DATABASE [--keep]}
keep=${3:-}
flask=${FLASK:-flask}

base_url=${DATABASE_URL:-postgresql+psycopg:///${PGDATABASE:-postgres}}
server_url=${base_url%/*}
target_url="$server_url/$target"
libpq_url=${target_url/+psycopg/}
maintenance=${server_url/+psycopg/}/postgres

archive=$dump
if [[ "$dump" == *.gpg ]]; then
  archive=$(mktemp)
  trap 'rm -f "$archive"' EXIT
  gpg --batch --yes --quiet --output "$archive" --decrypt "$dump"
fi

psql --no-password --dbname="$maintenance" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$target\""
pg_restore --no-password --no-owner --no-privileges --exit-on-error --dbname="$libpq_url" "$archive"

# Only what the command needs: the database (the app's secrets stay in production).
revision=$(DATABASE_URL="$target_url" OUTREACH_ENV=development "$flask" --app wsgi db current 2>/dev/null | tail -1)
head=$(DATABASE_URL="$target_url" OUTREACH_ENV=development "$flask" --app wsgi db heads 2>/dev/null | tail -1)
contacts=$(psql --no-password --dbname="$libpq_url" -Atc "SELECT count(*) FROM contacts")
echo "restored into $target: revision ${revision%% *} (this release: ${head%% *}), $contacts contacts"

if [[ "$keep" != "--keep" ]]; then
  psql --no-password --dbname="$maintenance" -qc "DROP DATABASE \"$target\""
fi
if [[ "${revision%% *}" != "${head%% *}" ]]; then
  echo "restore_check: the dump is at ${revision%% *}, not at this release's ${head%% *}: run flask db upgrade after restoring" >&2
  exit 2
fi
