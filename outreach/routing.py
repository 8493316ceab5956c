"""URL converters for row ids: a number no row can have is no page (404), not a crash.

Werkzeug's `int` accepts any number of digits, and a number past the column's range
failed in the database driver (OverflowError on SQLite, out of range on PostgreSQL): a 500.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter, IntegerConverter, Map

INTEGER_MAX = 2**31 - 1  # PostgreSQL's integer: the ids of users, zones, patrols...
BIGINT_MAX = 2**63 - 1  # bigint: the ids of contacts and referrals


class RowIdConverter(IntegerConverter):
    """`<row_id:name>`: the id of a row with an integer primary key."""

    def __init__(self, url_map: Map, *_args: Any, **_kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=INTEGER_MAX)


class BigRowIdConverter(IntegerConverter):
    """`<big_row_id:name>`: the id of a row with a bigint primary key."""

    def __init__(self, url_map: Map, *_args: Any, **_kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=BIGINT_MAX)


ID_CONVERTERS: dict[str, type[BaseConverter]] = {
    "row_id": RowIdConverter,
    "big_row_id": BigRowIdConverter,
}
