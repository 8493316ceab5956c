"""`flask --app wsgi outreach ...` commands."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from config import get_settings

from .auth.services import AccountError, create_user
from .clock import now_utc
from .demo.seed import DEFAULT_CONTACTS, DEFAULT_PASSWORD, DemoRefusedError, seed_demo
from .extensions import db
from .models import Association
from .security.retention import purge, truncate_write_ahead_log
from .vocabulary import ROLES

outreach_cli = AppGroup("outreach", help="Field outreach administration commands.")


@outreach_cli.command("seed-demo")
@click.option("--contacts", default=DEFAULT_CONTACTS, show_default=True, type=click.IntRange(0))
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True)
def seed_demo_command(contacts: int, password: str) -> None:
    """Create the demo associations, zones, users and synthetic contacts (safe to re-run)."""
    try:
        report = seed_demo(
            db.session(), get_settings(current_app), contacts=contacts, password=password
        )
    except (AccountError, DemoRefusedError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    for line in report:
        click.echo(line)


@outreach_cli.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--org", "org_slug", help="Slug of the association (workers and supervisors).")
@click.option("--name", "display_name", default="", help="Name shown to the team.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(
    email: str, role: str, org_slug: str | None, display_name: str, password_stdin: bool
) -> None:
    """Create an account."""
    association = None
    if org_slug:
        association = db.session.scalar(select(Association).where(Association.slug == org_slug))
        if association is None:
            raise click.ClickException(f"no association with slug {org_slug!r}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            db.session(),
            get_settings(current_app),
            email=email,
            role=role,
            password=password,
            display_name=display_name,
            association=association,
        )
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"created {user.role} {user.email}")


@outreach_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
def purge_command(dry_run: bool) -> None:
    """Delete contacts, patrols and audit entries older than the retention periods."""
    report = purge(db.session(), get_settings(current_app), now_utc(), dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
        truncate_write_ahead_log(db.engine)
    for line in report.lines():
        click.echo(line)


from .reports.cli import (  # noqa: E402 (registered on the group above)
    export_command,
    rebuild_rollup_command,
)

outreach_cli.add_command(export_command)
outreach_cli.add_command(rebuild_rollup_command)
