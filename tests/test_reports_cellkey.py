"""The cell key method's perturbation table and record keys (outreach/reports/cellkey.py).

The properties are those of the published contract (docs/reports.md), checked exhaustively
over every true count up to 200 and every cell key.
"""

from __future__ import annotations

import pytest

from outreach.reports.cellkey import (
    KEY_SPACE,
    PTable,
    cell_key,
    contact_record_key,
    person_record_key,
)

SETTINGS = [(5, 3), (5, 2), (2, 2), (10, 4)]


def allowed(n: int, threshold: int, noise: int) -> set[int]:
    """The contract's set of published values for a true count n."""
    if n < threshold:
        return {0}
    values = set(range(max(threshold, n - noise), n + noise + 1))
    if n <= threshold + noise - 1:
        values.add(0)
    return values


@pytest.mark.parametrize(("threshold", "noise"), SETTINGS)
def test_every_outcome_is_allowed_and_every_allowed_outcome_is_reachable(
    threshold: int, noise: int
) -> None:
    table = PTable(threshold, noise)
    for n in range(201):
        outcomes = {table.lookup(n, key) for key in range(KEY_SPACE)}
        assert outcomes == allowed(n, threshold, noise), n
        assert not outcomes & set(range(1, threshold))


@pytest.mark.parametrize(("threshold", "noise"), SETTINGS)
def test_the_readers_rule_always_contains_the_true_count(threshold: int, noise: int) -> None:
    table = PTable(threshold, noise)
    for n in range(201):
        for key in range(KEY_SPACE):
            p = table.lookup(n, key)
            if p == 0:
                assert 0 <= n <= threshold + noise - 1
            else:
                assert max(threshold, p - noise) <= n <= p + noise


def test_large_counts_are_unbiased_with_small_variance() -> None:
    table = PTable(5, 3)
    for n in (8, 9, 50, 199):
        values = [table.lookup(n, key) - n for key in range(KEY_SPACE)]
        mean = sum(values) / KEY_SPACE
        variance = sum(v * v for v in values) / KEY_SPACE - mean * mean
        assert abs(mean) < 0.01
        assert variance < 3
        # Triangular-like: no change is the likeliest outcome.
        assert values.count(0) == max(values.count(d) for d in range(-3, 4))


def test_small_but_nonzero_counts_are_not_told_from_zero() -> None:
    table = PTable(5, 3)
    for n in range(5):
        assert {table.lookup(n, key) for key in range(KEY_SPACE)} == {0}


def test_the_table_is_a_pure_function_of_count_and_key() -> None:
    assert PTable(5, 3).rows() == PTable(5, 3).rows()
    for pcv, ckey_high, pvalue in PTable(5, 3).rows():
        assert 0 <= ckey_high < KEY_SPACE
        assert pcv + pvalue >= 0


@pytest.mark.parametrize(("threshold", "noise"), [(5, 1), (1, 3)])
def test_bad_parameters_are_refused(threshold: int, noise: int) -> None:
    with pytest.raises(ValueError):
        PTable(threshold, noise)


def test_record_keys_are_keyed_stable_and_spread() -> None:
    key = "a-pseudonym-key-for-tests-only-0123456789"
    first = contact_record_key(key, "2f6f8e0a-1111-4a4a-8888-000000000001")
    assert first == contact_record_key(key, "2f6f8e0a-1111-4a4a-8888-000000000001")
    assert 0 <= first < KEY_SPACE
    keys = {contact_record_key(key, f"id-{i}") for i in range(2000)}
    assert len(keys) > 1500
    other = "another-key-for-tests-only-0123456789ab"
    assert [contact_record_key(other, f"id-{i}") for i in range(50)] != [
        contact_record_key(key, f"id-{i}") for i in range(50)
    ]
    # Person keys are separated from contact keys even for the same text.
    assert [person_record_key(key, f"id-{i}") for i in range(50)] != [
        contact_record_key(key, f"id-{i}") for i in range(50)
    ]


def test_a_cell_key_is_the_sum_of_its_record_keys_modulo_the_key_space() -> None:
    assert cell_key([4000, 100, 7]) == (4107 % KEY_SPACE)
    assert cell_key([]) == 0


def test_perturb_is_deterministic_for_the_same_records() -> None:
    table = PTable(5, 3)
    records = [contact_record_key("k" * 40, f"c{i}") for i in range(17)]
    assert table.lookup(17, cell_key(records)) == table.lookup(17, cell_key(reversed(records)))
