"""Row ids in URLs: a number no row can have is no page (404), or no value, not a crash.

Werkzeug's `int` accepts any number of digits, and a number past the column's range
failed in the database driver (OverflowError on SQLite, out of range on PostgreSQL): a 500.
"""

from __future__ import annotations

from typing import Any, ClassVar

from werkzeug.routing import BaseConverter, IntegerConverter, Map

from .models import BIGINT_MAX, INTEGER_MAX


class RowIdConverter(IntegerConverter):
    """`<row_id:name>`: the id of a row with an integer primary key."""

    largest: ClassVar[int] = INTEGER_MAX

    def __init__(self, url_map: Map, *_args: Any, **_kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=self.largest)


class BigRowIdConverter(RowIdConverter):
    """`<big_row_id:name>`: the id of a row with a bigint primary key."""

    largest = BIGINT_MAX


def big_row_id(value: str) -> int:
    """A bigint row id from a query string (`request.args.get(name, type=big_row_id)`):
    ValueError, so None there, for anything no row can have."""
    number = int(value)
    if not 0 < number <= BigRowIdConverter.largest:
        raise ValueError(value)
    return number


ID_CONVERTERS: dict[str, type[BaseConverter]] = {
    "row_id": RowIdConverter,
    "big_row_id": BigRowIdConverter,
}
