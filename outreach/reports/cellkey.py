"""The cell key method: small, consistent noise on every count published to funders.

Every record has a key in [0, KEY_SPACE) from a keyed hash (HMAC-SHA-256 under a key derived
from PSEUDONYM_KEY for this purpose alone): the contact's id for counts of contacts, needs,
material and referrals, the regional pseudonym for distinct and new people. A cell's key is
the sum of its records' keys modulo KEY_SPACE, so the same records always give the same
cell key, and key sums add up week by week like the counts they go with.

The perturbation table (`PTable`) maps a true count n and a cell key to the published
value, for a threshold T and a largest noise D:
- n = 0 → 0; 1 ≤ n ≤ T-1 → 0;
- n ≥ T → a value of [max(T, n-D), n+D], or 0 when n ≤ T+D-1.
Each of these outcomes has a positive probability over the keys, values 1..T-1 are never
published, and the noise is triangular (weights D+1-|noise|), unbiased for n ≥ T+D; the
part of the triangle that would fall below T goes to 0. A reader therefore knows only:
p = 0 ⇒ n ∈ [0, T+D-1]; p ≥ T ⇒ n ∈ [max(T, p-D), p+D].

The representation follows the ONS `cell-key-perturbation` package and the R `ptable`
package (Destatis): rows (pcv, ckey, pvalue), where pcv is the count with every count from
T+D up sharing one row (their noise is the same), ckey the highest cell key of the row's
range and pvalue the noise added.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

KEY_SPACE = 4096
_PURPOSE = b"cell-key:v1"


def _record_key(master_key: str, domain: str, ident: str) -> int:
    key = hmac.new(master_key.encode(), _PURPOSE, hashlib.sha256).digest()
    digest = hmac.new(key, f"{domain}:{ident}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") % KEY_SPACE


def contact_record_key(master_key: str, contact_id: str) -> int:
    """The key of a contact (and of its needs, material and referrals)."""
    return _record_key(master_key, "contact", contact_id)


def person_record_key(master_key: str, regional_pseudonym: str) -> int:
    """The key of a person, counted in distinct and new people."""
    return _record_key(master_key, "person", regional_pseudonym)


def cell_key(record_keys: Iterable[int]) -> int:
    return sum(record_keys) % KEY_SPACE


class PTable:
    """The perturbation table for a threshold T ≥ 2 and a largest noise D ≥ 2."""

    def __init__(self, threshold: int, max_noise: int) -> None:
        if threshold < 2 or max_noise < 2:
            raise ValueError("the threshold and the largest noise are at least 2")
        self.threshold = threshold
        self.max_noise = max_noise
        self._last = threshold + max_noise  # every larger count shares this row
        self._rows = [self._row(n) for n in range(self._last + 1)]

    def _outcomes(self, n: int) -> dict[int, int]:
        """Published value → weight."""
        if n < self.threshold:
            return {0: 1}
        weights: dict[int, int] = {}
        for value in range(n - self.max_noise, n + self.max_noise + 1):
            published = value if value >= self.threshold else 0
            weights[published] = weights.get(published, 0) + self.max_noise + 1 - abs(value - n)
        return weights

    def _row(self, n: int) -> list[int]:
        """The published value for each cell key (largest remainders, each outcome ≥ 1 key)."""
        weights = self._outcomes(n)
        total = sum(weights.values())
        shares = {value: weight * KEY_SPACE / total for value, weight in weights.items()}
        counts = {value: max(1, int(share)) for value, share in shares.items()}
        by_remainder = sorted(shares, key=lambda value: (counts[value] - shares[value], value))
        index = 0
        while sum(counts.values()) != KEY_SPACE:
            value = by_remainder[index % len(by_remainder)]
            if sum(counts.values()) < KEY_SPACE:
                counts[value] += 1
            elif counts[value] > 1:
                counts[value] -= 1
            index += 1
        row: list[int] = []
        for value in sorted(counts):
            row.extend([value] * counts[value])
        return row

    def lookup(self, n: int, key: int) -> int:
        """The published value of a true count n whose cell key is `key`."""
        if n < self._last:
            return self._rows[n][key % KEY_SPACE]
        return self._rows[self._last][key % KEY_SPACE] - self._last + n

    def rows(self) -> list[tuple[int, int, int]]:
        """The table in the (pcv, ckey, pvalue) form: ckey is the last key of each range."""
        table = []
        for pcv, row in enumerate(self._rows):
            for key, value in enumerate(row):
                if key + 1 == KEY_SPACE or row[key + 1] != value:
                    table.append((pcv, key, value - pcv))
        return table
