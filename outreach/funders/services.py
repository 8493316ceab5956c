"""Funders' summary: published aggregates across associations, for fixed periods only.

The figures themselves come from outreach/reports (registry, roll-up, cell key method); this
module chooses the period, flattens the published figures for the CSV, and keeps the
admin's targets.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import get_settings

from ..clock import now_utc
from ..models import IndicatorTarget, User
from ..reports.cellkey import PTable
from ..reports.csv_export import Cell as CsvCell
from ..reports.periods import (
    PERIOD_KINDS,
    Period,
    complete_periods,
    last_complete_week,
    period_from_key,
    week_period,
)
from ..reports.services import Cell, FundersSummary, plan_start_week


def perturbation_table() -> PTable:
    """The ptable of `SUPPRESSION_THRESHOLD` and `PERTURBATION_MAX_NOISE`."""
    settings = get_settings(current_app)
    return PTable(settings.suppression_threshold, settings.perturbation_max_noise)


@dataclass(frozen=True, slots=True)
class PeriodChoices:
    """The fixed periods a funder may pick, by kind, newest first."""

    chosen: Period
    by_kind: dict[str, list[Period]]


def period_choices(
    session: Session, value: str | None, now: datetime | None = None
) -> PeriodChoices | None:
    """Periods on offer and the one asked for ("week:2026-W46"); None if it is not one of them."""
    last = last_complete_week(now or now_utc())
    start = min(plan_start_week(session, last), last)
    by_kind = {kind: complete_periods(kind, start, last) for kind in PERIOD_KINDS}
    if not value:
        return PeriodChoices(week_period(last), by_kind)
    kind, _, key = value.partition(":")
    chosen = period_from_key(kind, key, start, last)
    return None if chosen is None else PeriodChoices(chosen, by_kind)


SUMMARY_HEADER = [
    "period_kind",
    "period",
    "first_week",
    "last_week",
    "zone",
    "association",
    "indicator",
    "value",
    "note",
]


def summary_rows(summary: FundersSummary) -> Iterator[list[CsvCell]]:
    """The published figures, one row per indicator and cell (total: zone and association
    empty); shares and rates as fractions rounded to 2 decimals."""
    period = summary.period
    zones = {zone.id: zone.code for zone in summary.zones}
    associations = {association.id: association.slug for association in summary.associations}

    def row(code: str, zone: str, association: str, cell: Cell) -> list[CsvCell]:
        value = cell.value
        if value is not None:
            unit = summary.registry[code].unit
            value = int(value) if unit == "count" else round(value, 2)
        return [
            period.kind,
            period.key,
            period.first_week,
            period.last_week,
            zone,
            association,
            code,
            value,
            cell.note,
        ]

    for figure in summary.rows:
        code = figure.indicator.code
        yield row(code, "", "", figure.total)
        for zone_id, cell in summary.by_zone[code].items():
            yield row(code, zones[zone_id], "", cell)
        for association_id, cell in summary.by_association[code].items():
            yield row(code, "", associations[association_id], cell)


def summary_filename(period: Period) -> str:
    return f"maraudes-synthese-{period.kind}-{period.key}.csv"


# --- targets ----------------------------------------------------------------------------


def targets(session: Session) -> Sequence[IndicatorTarget]:
    return session.scalars(
        select(IndicatorTarget).order_by(IndicatorTarget.indicator, IndicatorTarget.period)
    ).all()


def set_target(
    session: Session, indicator: str, period: str, value: float | None, by: User
) -> IndicatorTarget | None:
    """Create, change or (value None) remove the target of an indicator for a kind of period."""
    existing = session.scalar(
        select(IndicatorTarget).where(
            IndicatorTarget.indicator == indicator, IndicatorTarget.period == period
        )
    )
    if value is None:
        if existing is not None:
            session.execute(delete(IndicatorTarget).where(IndicatorTarget.id == existing.id))
        return None
    if existing is None:
        try:
            with session.begin_nested():
                created = IndicatorTarget(
                    indicator=indicator,
                    period=period,
                    value=value,
                    updated_at=now_utc(),
                    updated_by_id=by.id,
                )
                session.add(created)
            return created
        except IntegrityError:
            # Another admin created it in the meantime: change theirs (the last one wins).
            existing = session.scalars(
                select(IndicatorTarget).where(
                    IndicatorTarget.indicator == indicator, IndicatorTarget.period == period
                )
            ).one()
    existing.value = value
    existing.updated_at = now_utc()
    existing.updated_by_id = by.id
    session.flush()
    return existing
