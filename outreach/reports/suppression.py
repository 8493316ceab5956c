"""Small-cell suppression for the funders' figures.

The protected unit is the *weekly table* of one indicator: the total of all associations,
one cell per zone and one per association. Zones add up to the total, and so do
associations (for distinct people, the parts are at least the total instead).

1. Primary suppression: a count from 1 to threshold - 1 is hidden ("< 5"). In such a
   table the empty cells are shown "< 5" as well (they are below 5 too): otherwise the
   number of "< 5" cells would tell a reader a least total, and in a small table that is
   enough to work every cell out.
2. Complementary suppression: more cells are hidden ("masqué") until no hidden cell can be
   worked out from the published ones. What a reader knows is modelled: the published
   cells, the totals relations, that a "< 5" cell lies in 0..threshold-1 (1.. when it is
   the only one), that a "masqué" one is at least the threshold (and, pessimistically,
   which hidden parts of a share are zero). For each hidden cell the interval of values
   consistent with all that is computed (exactly, for this shape of table); a cell whose
   interval is a single value would be recovered, so the smallest published cell of its
   group is hidden too, and again. A table too small for that has every non-empty cell
   masked and no "< 5" at all.
3. Periods longer than a week (month, quarter, year to date, since the plan began) are
   unions of whole weeks. A cell of such a period is published only when the cells of all
   its weeks are: it is then the sum of published figures and reveals nothing more, whether
   compared with its weeks, with other periods, or with the same figure published last
   week. Otherwise it is hidden ("masqué").

Shares protect their numerator and the rest of their denominator (both must be shown);
rates follow the contacts they divide; group indicators follow their components.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

DEFAULT_THRESHOLD = 5


class Status(Enum):
    PUBLISHED = "published"
    SMALL = "small"  # primary suppression: shown as "< threshold"
    SUPPRESSED = "suppressed"  # complementary or inherited suppression: "masqué"


CellKey = tuple[str, int]  # ("total", 0), ("zone", zone_id) or ("association", id)
TOTAL: CellKey = ("total", 0)
GROUPS = ("zone", "association")


@dataclass(frozen=True, slots=True)
class WeekTable:
    """One indicator in one week: each cell's protected counts (one, or two for a share)."""

    cells: Mapping[CellKey, tuple[int, ...]]
    zones_add_up: bool = True
    associations_add_up: bool = True

    def adds_up(self, group: str) -> bool:
        return self.zones_add_up if group == "zone" else self.associations_add_up

    def parts(self, group: str) -> list[CellKey]:
        return [key for key in self.cells if key[0] == group]


def protect_week(table: WeekTable, threshold: int = DEFAULT_THRESHOLD) -> dict[CellKey, Status]:
    """Primary, then complementary suppression of one weekly table."""
    small: set[CellKey] = set()
    empty: set[CellKey] = set()
    for key, parts in table.cells.items():
        if not any(parts):
            empty.add(key)
        elif any(0 < value < threshold for value in parts):
            small.add(key)
    if not small:
        return dict.fromkeys(table.cells, Status.PUBLISHED)
    small |= empty
    hidden = set(small)
    while (group := _unsafe_group(table, hidden, small, threshold)) is not None:
        complement = _complement(table, hidden, group)
        if complement is None:
            # Too small a table to protect cell by cell: mask every non-empty cell, with no
            # "< 5" anywhere (what is masked is then only known to be at least 1).
            return {
                key: Status.SUPPRESSED if any(parts) else Status.PUBLISHED
                for key, parts in table.cells.items()
            }
        hidden.add(complement)
    return {
        key: Status.SMALL
        if key in small
        else Status.SUPPRESSED
        if key in hidden
        else Status.PUBLISHED
        for key in table.cells
    }


def _complement(table: WeekTable, hidden: set[CellKey], group: str) -> CellKey | None:
    """The least informative published cell of the group (or the total) to hide next."""
    candidates = [key for key in table.parts(group) if key not in hidden and any(table.cells[key])]
    if candidates:
        return min(candidates, key=lambda key: (sum(table.cells[key]), key))
    return TOTAL if TOTAL not in hidden and any(table.cells.get(TOTAL, ())) else None


Bounds = tuple[float, float]


def _bounds(value: int, shown_small: bool, only_small: bool, threshold: int) -> Bounds:
    """What a reader may know of one count of a hidden cell."""
    if shown_small and value < threshold:
        return (1 if only_small and value else 0, threshold - 1)
    if value == 0:
        return (0, 0)  # pessimistic: a reader might know that part of a share is zero
    return (threshold, math.inf)


def _unsafe_group(
    table: WeekTable, hidden: set[CellKey], small: set[CellKey], threshold: int
) -> str | None:
    """The first group (zones or associations) where a hidden count could be recovered."""
    width = len(next(iter(table.cells.values()), ()))
    for component in range(width):
        ranges = _ranges(table, hidden, small, threshold, component)
        for key, (low, high) in ranges.items():
            if low < high or table.cells[key][component] == 0:
                continue  # an unknown value, or a zero: nobody to protect
            if key != TOTAL:
                return key[0]
            # The total is pinned by a group whose parts are all known: open one.
            return next(
                (g for g in GROUPS if table.parts(g) and not set(table.parts(g)) & hidden),
                GROUPS[0],
            )
    return None


def _ranges(
    table: WeekTable, hidden: set[CellKey], small: set[CellKey], threshold: int, component: int
) -> dict[CellKey, Bounds]:
    """For each hidden cell, the interval of values a reader can deduce."""
    value = {key: parts[component] for key, parts in table.cells.items()}
    only_small = len(small) == 1
    bounds = {key: _bounds(value[key], key in small, only_small, threshold) for key in hidden}
    if TOTAL in hidden:
        total_low, total_high = bounds[TOTAL]
    else:
        total_low = total_high = value.get(TOTAL, 0)
    for group in GROUPS:
        parts = table.parts(group)
        if not parts:
            continue
        known = sum(value[key] for key in parts if key not in hidden)
        lows = [bounds[key][0] for key in parts if key in hidden]
        highs = [bounds[key][1] for key in parts if key in hidden]
        if table.adds_up(group):
            total_low = max(total_low, known + sum(lows))
            total_high = min(total_high, known + sum(highs))
        else:  # the total is at most the sum of the parts and at least each part
            largest_known = max((value[key] for key in parts if key not in hidden), default=0)
            total_low = max(total_low, largest_known, max(lows, default=0))
            total_high = min(total_high, known + sum(highs))
    ranges: dict[CellKey, Bounds] = {}
    if TOTAL in hidden:
        ranges[TOTAL] = (total_low, total_high)
    for group in GROUPS:
        parts = table.parts(group)
        hidden_parts = [key for key in parts if key in hidden]
        known = sum(value[key] for key in parts if key not in hidden)
        all_low = sum(bounds[key][0] for key in hidden_parts)
        finite_high = sum(bounds[key][1] for key in hidden_parts if bounds[key][1] != math.inf)
        unbounded = sum(1 for key in hidden_parts if bounds[key][1] == math.inf)
        for key in hidden_parts:
            low, high = bounds[key]
            others_low = all_low - low
            own_unbounded = high == math.inf
            others_high = (
                math.inf
                if unbounded - own_unbounded
                else finite_high - (0 if own_unbounded else high)
            )
            low = max(low, total_low - known - others_high)
            if table.adds_up(group):
                high = min(high, total_high - known - others_low)
            else:
                high = min(high, total_high)
            ranges[key] = (low, high)
    return ranges


def inherit(statuses: Iterable[Status]) -> Status:
    """Published only if every cell it is made of is: a longer period from its weeks, a
    rate or a group indicator from the counts it is computed from."""
    return (
        Status.PUBLISHED
        if all(status is Status.PUBLISHED for status in statuses)
        else Status.SUPPRESSED
    )
