"""Split a total over parts in proportion to weights, so the parts always add up exactly."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import lcm


def largest_remainder(total: int, weights: Sequence[int | Fraction]) -> list[int]:
    """Integers proportional to `weights` that sum to `total` (Hamilton's method).

    Each part is the floor of its exact share, and the units left over go to the parts with
    the largest remainders, earlier parts first on ties. Weights of 0 get 0. If every weight
    is 0 the total must be 0. Fractions are scaled to integers first, so the arithmetic is
    exact and stays in integers.
    """
    if total < 0:
        raise ValueError("total must not be negative")
    if not set(map(type, weights)) <= {int}:  # the engine's own calls pass ints: no copy
        if any(isinstance(w, Fraction) and w.denominator != 1 for w in weights):
            scale = lcm(*(Fraction(w).denominator for w in weights))
            weights = [int(Fraction(w) * scale) for w in weights]
        else:
            weights = [int(w) for w in weights]
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError("cannot split a positive total over zero weights")
        return [0] * len(weights)
    if total == weight_sum:  # e.g. spending the most bonuses allowed: each part its weight
        return list(weights)
    products = [total * w for w in weights]
    parts = [p // weight_sum for p in products]
    remainders = [p % weight_sum for p in products]
    left = total - sum(parts)
    if left:
        # A reversed sort stays stable: on equal remainders the earlier part still comes first.
        order = sorted(range(len(weights)), key=remainders.__getitem__, reverse=True)
        for i in order[:left]:
            parts[i] += 1
    return parts
