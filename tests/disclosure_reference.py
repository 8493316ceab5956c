"""Per-table small-cell suppression, as a reference the attacks must be able to beat.

The rule the funders' figures followed before the cell key method (one weekly table at a
time): a count from 1 to T-1 is shown `< T`, and so are the empty cells of a table that
has one; while the reader could still pin a hidden cell of the table from the table
alone, its smallest published part is hidden too (`masked`); a longer period is its own
table. It works from true counts only and shares no code with the app.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from tests.disclosure_attacker import Solver

SMALL = "small"
MASKED = "masked"
Published = int | str


def reader_interval(published: Published, threshold: int, only_small: bool) -> tuple[float, float]:
    """What that rule lets a reader deduce of one cell."""
    if published == SMALL:
        return (1 if only_small else 0, threshold - 1)
    if published == MASKED:
        return (threshold, math.inf)
    return (float(published), float(published))


def _pinned_in_table(total: Published, parts: Mapping[str, Published], threshold: int) -> bool:
    solver = Solver()
    only_small = sum(1 for value in parts.values() if value == SMALL) == 1
    for name, value in [("total", total), *parts.items()]:
        solver.cell(name, *reader_interval(value, threshold, only_small))
    solver.equal_sum("total", list(parts))
    bounds = solver.solve()
    return any(
        bounds[name][0] == bounds[name][1]
        for name, value in parts.items()
        if value in (SMALL, MASKED)
    )


def suppress_table(
    total: int, parts: Mapping[str, int], threshold: int
) -> tuple[Published, dict[str, Published]]:
    """One table (a total and its parts) as that rule published it."""
    shown_total: Published = SMALL if 0 < total < threshold else total
    shown: dict[str, Published] = {
        name: SMALL if 0 < value < threshold else value for name, value in parts.items()
    }
    if SMALL in shown.values():
        shown = {name: SMALL if value == 0 else value for name, value in shown.items()}
    while _pinned_in_table(shown_total, shown, threshold):
        published = [name for name, value in shown.items() if isinstance(value, int) and value]
        if not published:
            break
        smallest = min(published, key=lambda name: parts[name])
        shown[smallest] = MASKED
    return shown_total, shown
