"""The activity report as a CSV (long format, docs/exports.md) and as an Excel workbook.

Both carry the same figures as the page. The CSV names them by codes; the workbook by
labels in the reader's language, one sheet per section, numbers stored as numbers and
every text stored as text, so that no label from the database becomes a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..reports.csv_export import Cell, file_slug
from .definitions import MODALITY_NOTE, SECTIONS, TOTALS
from .services import ActivityReport, period_value

CSV_HEADER = [
    "association",
    "period_kind",
    "period",
    "first_week",
    "last_week",
    "section",
    "code",
    "measure",
    "value",
]
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HOURS_FORMAT = "0.0"


def _number(value: float) -> int | float:
    """Counts as integers; hours, the only figures the services give as floats, to the
    hundredth."""
    return round(value, 2) if isinstance(value, float) else int(value)


def csv_rows(report: ActivityReport) -> Iterator[list[Cell]]:
    """One row per section, code and measure. Zone codes are typed by an admin: they go
    through `safe_cell` with the rest, in `csv_lines`."""
    period = report.period
    for section in report.sections:
        for row in section.rows:
            for measure, value in zip(section.text.measures, row.values, strict=True):
                yield [
                    report.association.slug,
                    period.kind,
                    period.key,
                    period.first_week,
                    period.last_week,
                    section.code,
                    row.code,
                    measure.code,
                    _number(value),
                ]


def filename(report: ActivityReport, extension: str) -> str:
    period = report.period
    return (
        f"maraudes-{file_slug(report.association)}-activite-{period.kind}-{period.key}.{extension}"
    )


def _append(sheet: Worksheet, values: Sequence[str | int | float]) -> None:
    """A row whose texts stay texts: openpyxl would store "=…" as a formula."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _header(sheet: Worksheet, names: Sequence[str], widths: Sequence[int]) -> None:
    _append(sheet, names)
    for column, (cell, width) in enumerate(zip(sheet[1], widths, strict=True), start=1):
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"


def workbook(report: ActivityReport, *, current: bool) -> bytes:
    book = Workbook()
    about = book.worksheets[0]
    about.title = _("Période")
    _header(about, [_("Champ"), _("Valeur")], [24, 60])
    period = report.period
    for name, value in (
        (_("Association"), report.association.name),
        (_("Période"), period.label() + (f" ({_('en cours')})" if current else "")),
        (_("Code de la période"), period_value(period)),
        (_("Première semaine"), period.first_week),
        (_("Dernière semaine"), period.last_week),
        (_("Modalités"), str(MODALITY_NOTE)),
    ):
        _append(about, [name, value])

    for section in report.sections:
        sheet = book.create_sheet(str(section.text.title))
        measures = section.text.measures
        _header(
            sheet,
            [_("Code"), _("Intitulé"), *(str(measure.label) for measure in measures)],
            [22, 40, *(16 for _measure in measures)],
        )
        for row in section.rows:
            _append(sheet, [row.code, str(row.label), *(_number(v) for v in row.values)])
            for cell in sheet[sheet.max_row][2:]:
                if isinstance(cell.value, float):  # hours
                    cell.number_format = HOURS_FORMAT

    definitions = book.create_sheet(_("Définitions"))
    _header(definitions, [_("Chiffre"), _("Définition")], [36, 100])
    for total in TOTALS:
        _append(definitions, [str(total.label), str(total.definition)])
    for text in SECTIONS.values():
        if text.code != "totals":
            _append(definitions, [str(text.title), str(text.definition)])

    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
