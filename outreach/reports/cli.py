"""`flask --app wsgi outreach export --org SLUG --week 2026-W47 --kind contacts|indicators`
and `flask --app wsgi outreach rebuild-rollup`."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..audit import audit
from ..extensions import db
from ..models import Association
from .csv_export import KINDS, CsvFormat, counted, csv_lines, weekly_export
from .periods import is_week
from .rollup import rebuild_all
from .services import load_registry


@click.command("export")
@with_appcontext
@click.option("--org", "org_slug", required=True, help="Slug of the association.")
@click.option("--week", required=True, help="ISO week, e.g. 2026-W47 (Europe/Paris).")
@click.option("--kind", required=True, type=click.Choice(KINDS))
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="File (default: standard output).",
)
@click.option(
    "--separator",
    type=click.Choice(["comma", "semicolon"]),
    default="comma",
    show_default=True,
    help="semicolon: ';' and decimal comma, for French spreadsheets.",
)
def export_command(org_slug: str, week: str, kind: str, output: str | None, separator: str) -> None:
    """Write one association's weekly CSV (contacts or indicators); the export is audited."""
    if not is_week(week):
        raise click.BadParameter(f"{week!r} is not an ISO week like 2026-W47", param_hint="--week")
    association = db.session.scalar(select(Association).where(Association.slug == org_slug))
    if association is None:
        raise click.ClickException(f"no association with slug {org_slug!r}")
    prepared = weekly_export(db.session(), association, week, kind, load_registry(db.session()))
    written: dict[str, Any] = {}

    def record(rows: int, complete: bool) -> None:
        written.update(rows=rows, complete=complete)

    lines = csv_lines(
        prepared.header,
        counted(prepared.rows, record),
        CsvFormat.named(separator),
        cells_are_safe=prepared.cells_are_safe,
    )
    if output:
        with open(output, "w", encoding="utf-8", newline="") as file:
            file.writelines(lines)
    else:
        sys.stdout.writelines(lines)
    audit(db.session(), "export", association_id=association.id, week=week, kind=kind, **written)
    db.session.commit()
    if output:
        click.echo(f"{written['rows']} rows written to {output}", err=True)


@click.command("rebuild-rollup")
@with_appcontext
def rebuild_rollup_command() -> None:
    """Recompute the weekly roll-up from the contacts (after a restore or a rollback)."""
    weeks = rebuild_all(db.session())
    db.session.commit()
    click.echo(f"{len(weeks)} weeks recomputed")
