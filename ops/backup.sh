#!/usr/bin/env bash
# Dump the PostgreSQL database into DIRECTORY, checked, and encrypted when asked
# (docs/deploy.md, "Backups"). Exit status 0 only for a complete, readable dump.
#
#   ops/backup.sh DIRECTORY
#
# Connection: DATABASE_URL (the app's, postgresql+psycopg://user@host:port/db) or the
# libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD or ~/.pgpass).
# BACKUP_GPG_RECIPIENT: encrypt for that GnuPG key and keep only the encrypted file.
set -euo pipefail
umask 077 # dumps hold pseudonyms: readable by the backup account only

directory=${1:?usage: ops/backup.sh DIRECTORY}
mkdir -p "$directory"
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
dump="$directory/outreach-$stamp.dump"
roles="$directory/outreach-$stamp.roles.sql"
partial="$dump.partial"
trap 'rm -f "$partial" "$partial.roles"' EXIT

connection=()
if [[ -n "${DATABASE_URL:-}" ]]; then
  connection=(--dbname="${DATABASE_URL/+psycopg/}")
fi

# Into a partial file first: a failed run leaves nothing that looks like a backup.
pg_dump --format=custom --no-password "${connection[@]}" --file="$partial"
if [[ ! -s "$partial" ]]; then
  echo "backup: pg_dump wrote nothing" >&2
  exit 1
fi
pg_restore --list "$partial" >/dev/null # the archive reads back whole

# The roles the dump's ownerships name, without their passwords (restore with
# --no-owner when they do not exist on the target host).
pg_dumpall --globals-only --no-role-passwords --no-password \
  ${DATABASE_URL:+--dbname="${DATABASE_URL/+psycopg/}"} >"$partial.roles"

if [[ -n "${BACKUP_GPG_RECIPIENT:-}" ]]; then
  gpg --batch --yes --trust-model always --recipient "$BACKUP_GPG_RECIPIENT" \
    --output "$dump.gpg" --encrypt "$partial"
  gpg --batch --yes --trust-model always --recipient "$BACKUP_GPG_RECIPIENT" \
    --output "$roles.gpg" --encrypt "$partial.roles"
  echo "$dump.gpg"
else
  mv "$partial" "$dump"
  mv "$partial.roles" "$roles"
  echo "$dump"
fi
