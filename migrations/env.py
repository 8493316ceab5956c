"""Alembic environment, run through Flask-Migrate (`flask --app wsgi db ...`)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_extension = current_app.extensions["migrate"]
engine = migrate_extension.db.engine
target_metadata = migrate_extension.db.metadata
config.set_main_option(
    "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def render_item(type_, obj, autogen_context):
    """Render the app's UTCDateTime as a plain DateTime: migrations must not import the app."""
    if type_ == "type" and obj.__class__.__name__ == "UTCDateTime":
        return "sa.DateTime()"
    return False


def skip_empty_autogenerate(context_, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_item=render_item,
        **migrate_extension.configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    configure_args = dict(migrate_extension.configure_args)
    configure_args.setdefault("process_revision_directives", skip_empty_autogenerate)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch operations recreate tables: with foreign keys enforced, dropping a table
            # that rows of another point to fails. Off for the migration, on the driver's
            # connection before any transaction (SQLite ignores it inside one), checked and
            # back on after.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        if connection.dialect.name == "postgresql":
            # The app's statement timeout (DATABASE_STATEMENT_TIMEOUT) bounds requests; a
            # migration over a large table must run to its end.
            connection.exec_driver_sql("SET statement_timeout = 0")
            connection.commit()  # for the session; the migrations run in their own transaction
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_item=render_item,
                **configure_args,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.commit()
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
