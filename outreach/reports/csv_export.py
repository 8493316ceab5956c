"""Weekly CSV exports (docs/exports.md): contacts and indicators of one association.

UTF-8 with a byte order mark, one header row, RFC 4180 quoting and CRLF line ends, ISO
dates; ',' as separator (decimal point '.') or ';' for French spreadsheets (decimal
comma). No cell may start a formula: one that would begins with an apostrophe.
Rows are produced batch by batch (keyset pagination), so memory stays flat however many
contacts the week holds.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    SQLColumnExpression,
    String,
    any_,
    bindparam,
    func,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ..clock import PARIS
from ..models import ALL, Association, Contact, ContactMaterial, ContactNeed, Referral, Zone
from .indicators import Indicator, Registry
from .services import Measures, load_measures

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000
KINDS = ("contacts", "indicators")
Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class CsvFormat:
    separator: str
    decimal: str

    @classmethod
    def named(cls, name: str | None) -> CsvFormat:
        return SEMICOLON if name == "semicolon" else COMMA


COMMA = CsvFormat(",", ".")
SEMICOLON = CsvFormat(";", ",")


def safe_cell(value: Cell, csv_format: CsvFormat = COMMA) -> str:
    """A cell as text that no spreadsheet will run as a formula."""
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".").replace(".", csv_format.decimal)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    csv_format: CsvFormat = COMMA,
    *,
    cells_are_safe: bool = False,
) -> Iterator[str]:
    """The whole file, piece by piece: BOM and header first, then rows in batches.

    `cells_are_safe`: the rows hold only numbers and texts already passed through
    `safe_cell` (or that cannot start a formula), so they are written as they are.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=csv_format.separator, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([safe_cell(name, csv_format) for name in header])
    yield BOM + flush()
    for count, row in enumerate(rows, start=1):
        writer.writerow(row if cells_are_safe else [safe_cell(value, csv_format) for value in row])
        if count % BATCH == 0:
            yield flush()
    tail = flush()
    if tail:
        yield tail


def file_slug(association: Association) -> str:
    """The association's slug as it may stand in a file name."""
    return re.sub(r"[^a-z0-9-]+", "-", association.slug.lower()).strip("-") or "association"


def export_filename(association: Association, week: str, kind: str) -> str:
    return f"maraudes-{file_slug(association)}-{week}-{kind}.csv"


# --- contacts ---------------------------------------------------------------------------


def utc_offset(moment: datetime) -> str:
    """ "UTC+01:00" in winter, "UTC+02:00" in summer: tells apart the hour Paris lives twice
    in October. Prefixed, since a cell starting with "+" is a spreadsheet formula."""
    return "UTC" + moment.isoformat(timespec="minutes")[-6:]


def contacts_header(registry: Registry) -> list[str]:
    return [
        "id",
        "iso_week",
        "date",
        "time",
        "utc_offset",
        "zone",
        "patrol",
        "pseudonym",
        "first_contact",
        "gender",
        "age_band",
        "housing",
        *(indicator.code for indicator in registry.families["need"]),
        *(indicator.code for indicator in registry.families["material"]),
        "referrals",
        *(indicator.code for indicator in registry.families["referral"]),
    ]


def contact_rows(
    session: Session, association_id: int, week: str, registry: Registry
) -> Iterator[list[Cell]]:
    """One row per contact of the week, zone by zone in recording order, in batches.

    Every cell is safe for `csv_lines(..., cells_are_safe=True)`: numbers, ISO dates,
    hexadecimal ids and pseudonyms, codes the database constrains, and zone codes (which
    an admin types) passed through `safe_cell`.
    """
    zones = {
        zone_id: safe_cell(code) for zone_id, code in session.execute(select(Zone.id, Zone.code))
    }
    positions = {
        family: {indicator.code.split(".", 1)[1]: n for n, indicator in enumerate(indicators)}
        for family, indicators in registry.families.items()
    }
    # Core rows straight from the connection: the ORM's row loading costs a third of the time.
    connection = session.connection()
    contacts = connection.execute(
        select(
            Contact.id,
            type_coerce(Contact.client_id, String),
            Contact.iso_week,
            Contact.occurred_at,
            Contact.zone_id,
            Contact.patrol_id,
            Contact.pseudonym_association,
            Contact.first_contact,
            Contact.gender,
            Contact.age_band,
            Contact.housing,
        )
        .where(Contact.association_id == association_id, Contact.iso_week == week)
        # Zone first: the (association, week, zone) index gives that order, so that a
        # server-side cursor does not make PostgreSQL walk every contact in id order.
        .order_by(Contact.zone_id, Contact.id)
        .execution_options(yield_per=BATCH)  # a server-side cursor where there is one
    )
    for batch in contacts.partitions():
        ids = [row[0] for row in batch]
        needs: dict[int, list[int]] = {}
        for contact_id, code in connection.execute(
            select(ContactNeed.contact_id, ContactNeed.need_code).where(
                _one_of(session, ContactNeed.contact_id, ids)
            )
        ):
            flags = needs.setdefault(contact_id, [0] * len(positions["need"]))
            flags[positions["need"][code]] = 1
        materials: dict[int, list[int]] = {}
        for contact_id, code, quantity in connection.execute(
            select(
                ContactMaterial.contact_id, ContactMaterial.material_code, ContactMaterial.quantity
            ).where(_one_of(session, ContactMaterial.contact_id, ids))
        ):
            counts = materials.setdefault(contact_id, [0] * len(positions["material"]))
            counts[positions["material"][code]] = quantity
        referrals: dict[int, list[str]] = {}
        for contact_id, destination, status in connection.execute(
            select(Referral.contact_id, Referral.destination_code, Referral.status).where(
                _one_of(session, Referral.contact_id, ids)
            )
        ):
            statuses = referrals.setdefault(contact_id, [""] * len(positions["referral"]))
            statuses[positions["referral"][destination]] = status
        no_needs = [0] * len(positions["need"])
        no_materials = [0] * len(positions["material"])
        no_referrals = [""] * len(positions["referral"])
        for (
            contact_id,
            client_id,
            iso_week,
            occurred_at,
            zone_id,
            patrol_id,
            pseudonym,
            first_contact,
            gender,
            age_band,
            housing,
        ) in batch:
            local = occurred_at.astimezone(PARIS)
            statuses = referrals.get(contact_id, no_referrals)
            yield [
                _uuid_text(client_id),
                iso_week,
                f"{local.year:04d}-{local.month:02d}-{local.day:02d}",
                f"{local.hour:02d}:{local.minute:02d}",
                utc_offset(local),
                zones.get(zone_id, ""),
                "" if patrol_id is None else patrol_id,
                pseudonym or "",
                1 if first_contact else 0,
                gender,
                age_band,
                housing,
                *needs.get(contact_id, no_needs),
                *materials.get(contact_id, no_materials),
                len(statuses) - statuses.count(""),
                *statuses,
            ]


def _one_of(
    session: Session, column: SQLColumnExpression[int], ids: list[int]
) -> ColumnElement[bool]:
    """`column IN ids` with one parameter, not a thousand to render: an array on
    PostgreSQL, a JSON list read by json_each on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=postgresql.ARRAY(BigInteger)))
    listed = func.json_each(bindparam("ids", json.dumps(ids))).table_valued("value")
    return column.in_(select(listed.c.value))


def _uuid_text(stored: object) -> str:
    """A contact's id as text, without building a UUID object per row: SQLite keeps 32
    hexadecimal digits, PostgreSQL's driver gives a UUID."""
    if isinstance(stored, str) and len(stored) == 32:
        return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"
    return str(stored)


# --- indicators -------------------------------------------------------------------------

INDICATORS_HEADER = ["week", "association", "zone", "indicator", "value"]


def indicator_rows(
    session: Session, association: Association, week: str, registry: Registry
) -> list[list[Cell]]:
    """Long format: per indicator, a total row (zone empty), then one row per zone met."""
    measures = load_measures(session, week, week, association_id=association.id)
    zones = session.execute(select(Zone.id, Zone.code).order_by(Zone.position, Zone.code)).all()
    active = [
        (zone_id, code) for zone_id, code in zones if measures.week(week, association.id, zone_id)
    ]
    rows: list[list[Cell]] = []
    for indicator in registry.indicators:
        rows.append(_indicator_row(measures, association, week, indicator, ALL, ""))
        rows.extend(
            _indicator_row(measures, association, week, indicator, zone_id, code)
            for zone_id, code in active
        )
    return rows


def _indicator_row(
    measures: Measures,
    association: Association,
    week: str,
    indicator: Indicator,
    zone_id: int,
    zone_code: str,
) -> list[Cell]:
    value = indicator.value(measures.sums([week], association.id, zone_id, "week"))
    if value is not None and indicator.unit == "count":
        value = int(value)
    return [week, association.slug, zone_code, indicator.code, value]


@dataclass(frozen=True, slots=True)
class Export:
    """A weekly export ready to stream: its header and its rows."""

    header: Sequence[str]
    rows: Iterable[Sequence[Cell]]
    cells_are_safe: bool = False


def weekly_export(
    session: Session, association: Association, week: str, kind: str, registry: Registry
) -> Export:
    if kind == "contacts":
        rows = contact_rows(session, association.id, week, registry)
        return Export(contacts_header(registry), rows, cells_are_safe=True)
    return Export(INDICATORS_HEADER, indicator_rows(session, association, week, registry))


def counted(
    rows: Iterable[Sequence[Cell]], on_end: Callable[[int, bool], None]
) -> Iterator[Sequence[Cell]]:
    """The rows unchanged; `on_end(rows, complete)` is called once they stop coming."""
    count = 0
    complete = False
    try:
        for row in rows:
            yield row
            count += 1
        complete = True
    finally:
        on_end(count, complete)
