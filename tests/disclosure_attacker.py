"""A reader's solver: integer interval propagation over linear relations between published cells."""

import math


class Solver:
    """Cells are integer unknowns with an interval; relations are lo <= sum(coef * cell) <= hi."""

    def __init__(self):
        self.bounds = {}
        self.relations = []

    def cell(self, name, lo=0, hi=math.inf):
        old_lo, old_hi = self.bounds.get(name, (0, math.inf))
        self.bounds[name] = (max(old_lo, lo), min(old_hi, hi))

    def exact(self, name, value):
        self.cell(name, value, value)

    def relate(self, terms, lo, hi=None):
        hi = lo if hi is None else hi
        for name in terms:
            self.cell(name)
        self.relations.append((dict(terms), lo, hi))

    def equal_sum(self, total, parts):
        terms = {part: 1 for part in parts}
        terms[total] = terms.get(total, 0) - 1
        self.relate(terms, 0)

    def at_most(self, small, large):
        self.relate({small: 1, large: -1}, -math.inf, 0)

    def _tighten(self, terms, lo, hi):
        changed = False
        for name, coef in terms.items():
            if coef == 0:
                continue
            rest_lo = rest_hi = 0
            for other, c in terms.items():
                if other == name:
                    continue
                if c == 0:
                    continue
                a, b = self.bounds[other]
                rest_lo += min(c * a, c * b)
                rest_hi += max(c * a, c * b)
            low, high = lo - rest_hi, hi - rest_lo
            if coef < 0:
                low, high = high, low
            low, high = low / coef, high / coef
            new_lo = math.ceil(low - 1e-9) if low != -math.inf else 0
            new_hi = math.floor(high + 1e-9) if high != math.inf else math.inf
            a, b = self.bounds[name]
            if new_lo > a or new_hi < b:
                self.bounds[name] = (max(a, new_lo), min(b, new_hi))
                changed = True
                if self.bounds[name][0] > self.bounds[name][1]:
                    raise ValueError(f"infeasible at {name}")
        return changed

    def solve(self, rounds=200):
        for _ in range(rounds):
            if not any([self._tighten(*rel) for rel in self.relations]):
                return self.bounds
        return self.bounds

    def pinned(self, threshold, owned=()):
        self.solve()
        return sorted(
            (name, lo)
            for name, (lo, hi) in self.bounds.items()
            if lo == hi and 1 <= lo <= threshold - 1 and name not in owned
        )
