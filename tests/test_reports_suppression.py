"""Small-cell suppression: never a count from 1 to threshold - 1, and nothing recoverable.

The oracle is independent of the implementation: it lists, for every hidden cell, every
integer value consistent with what a reader sees (the published cells, "< 5" meaning 0..4,
or 1..4 when only one cell shows it, "masqué" meaning at least 5, and the totals relations),
and requires at least two.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach.reports.suppression import TOTAL, CellKey, Status, WeekTable, inherit, protect_week


def build_table(zones: list[int], associations: list[int], *, additive: bool = True) -> WeekTable:
    """A week where zones add up to the total; associations add up too, or (distinct people)
    are each at most the total and together at least it."""
    total = sum(zones)
    cells: dict[CellKey, tuple[int, ...]] = {TOTAL: (total,)}
    cells.update({("zone", i + 1): (value,) for i, value in enumerate(zones)})
    cells.update({("association", i + 1): (value,) for i, value in enumerate(associations)})
    return WeekTable(cells, associations_add_up=additive)


def domain(value: int, status: Status, smalls: int, threshold: int, cap: int) -> set[int]:
    if status is Status.PUBLISHED:
        return {value}
    if status is Status.SMALL:
        return set(range(1 if smalls == 1 else 0, threshold))
    # "masqué" is at least the threshold, or (a table masked whole, no "< 5") at least 1.
    return set(range(threshold if smalls else 1, cap + 1))


def sums(domains: list[set[int]], cap: int) -> set[int]:
    reachable = {0}
    for values in domains:
        reachable = {a + b for a in reachable for b in values if a + b <= cap}
    return reachable


def feasible(
    table: WeekTable, statuses: Mapping[CellKey, Status], threshold: int, fixed: tuple[CellKey, int]
) -> bool:
    """Is there a table consistent with what is published where cell `fixed[0]` = `fixed[1]`?"""
    cap = 2 * sum(parts[0] for parts in table.cells.values()) + 2 * threshold
    smalls = list(statuses.values()).count(Status.SMALL)
    domains = {
        key: domain(parts[0], statuses[key], smalls, threshold, cap)
        for key, parts in table.cells.items()
    }
    domains[fixed[0]] = domains[fixed[0]] & {fixed[1]}
    zones = [domains[key] for key in table.parts("zone")]
    associations = [domains[key] for key in table.parts("association")]
    zone_sums = sums(zones, cap)
    for total in domains[TOTAL]:
        if total not in zone_sums:
            continue
        if table.associations_add_up:
            if total in sums(associations, cap):
                return True
        else:
            capped = [{v for v in values if v <= total} for values in associations]
            if all(capped) and max(sums(capped, cap), default=-1) >= total:
                return True
    return False


def assert_protected(table: WeekTable, threshold: int) -> None:
    statuses = protect_week(table, threshold)
    for key, parts in table.cells.items():
        value = parts[0]
        if statuses[key] is Status.PUBLISHED:
            assert not 0 < value < threshold, f"{key}={value} published"
        elif statuses[key] is Status.SUPPRESSED and Status.SMALL in statuses.values():
            assert value >= threshold, f"{key}={value} masked, though below the threshold"
        if statuses[key] is not Status.PUBLISHED and value:
            alternatives = [
                other
                for other in (value - 1, value + 1, *range(0, threshold + 2))
                if other != value and other >= 0
            ]
            assert any(
                feasible(table, statuses, threshold, (key, other)) for other in alternatives
            ), f"{key}={value} can be worked out: {statuses}"


counts = st.lists(st.one_of(st.integers(0, 6), st.integers(0, 30)), min_size=1, max_size=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zones=counts,
    shares=st.lists(st.integers(0, 100), min_size=1, max_size=3),
    threshold=st.sampled_from([3, 5]),
)
def test_additive_tables_publish_no_small_count_and_hide_nothing_recoverable(
    zones: list[int], shares: list[int], threshold: int
) -> None:
    total = sum(zones)
    weights = [w + 1 for w in shares]
    associations = [total * w // sum(weights) for w in weights]
    associations[0] += total - sum(associations)
    assert_protected(build_table(zones, associations), threshold)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zones=counts, extra=st.lists(st.integers(0, 8), min_size=1, max_size=3))
def test_distinct_people_tables_are_protected_too(zones: list[int], extra: list[int]) -> None:
    """Associations' distinct people overlap: each at most the total, together at least it."""
    total = sum(zones)
    associations = [min(total, e + total // len(extra)) for e in extra]
    if sum(associations) < total:
        associations[0] = total
    assert_protected(build_table(zones, associations, additive=False), 5)


def test_a_single_small_zone_takes_a_complement_with_it() -> None:
    statuses = protect_week(build_table([3, 40, 12, 7], [62]))
    assert statuses[("zone", 1)] is Status.SMALL
    assert statuses[("zone", 4)] is Status.SUPPRESSED  # the smallest other zone
    assert statuses[("zone", 2)] is Status.PUBLISHED and statuses[("zone", 3)] is Status.PUBLISHED
    assert statuses[TOTAL] is Status.PUBLISHED


def test_empty_cells_of_a_protected_table_read_below_the_threshold_too() -> None:
    # "< 5" for both the 3 and the 0: a reader cannot tell which zone the 3 people were in.
    statuses = protect_week(build_table([3, 40, 0], [43]))
    assert statuses[("zone", 1)] is Status.SMALL and statuses[("zone", 3)] is Status.SMALL
    assert statuses[("zone", 2)] is Status.PUBLISHED


def test_a_complement_at_the_threshold_is_not_enough_when_it_pins_the_small_count() -> None:
    # 1 + 5 = 6: knowing "< 5" and "at least 5" would give both away; a third cell is hidden.
    statuses = protect_week(build_table([1, 5, 9], [15]))
    assert sum(status is not Status.PUBLISHED for status in statuses.values()) == 3


def test_tables_without_small_counts_are_published_whole() -> None:
    statuses = protect_week(build_table([0, 12, 40], [30, 22]))
    assert set(statuses.values()) == {Status.PUBLISHED}


def test_a_longer_period_is_published_only_if_all_its_weeks_are() -> None:
    assert inherit([Status.PUBLISHED] * 4) is Status.PUBLISHED
    assert inherit([Status.PUBLISHED, Status.SMALL]) is Status.SUPPRESSED
    assert inherit([Status.SUPPRESSED, Status.PUBLISHED]) is Status.SUPPRESSED
