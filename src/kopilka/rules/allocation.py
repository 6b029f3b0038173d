"""Split a total over parts in proportion to weights, so the parts always add up exactly."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction


def largest_remainder(total: int, weights: Sequence[int | Fraction]) -> list[int]:
    """Integers proportional to `weights` that sum to `total` (Hamilton's method).

    Each part is the floor of its exact share, and the units left over go to the parts with
    the largest remainders, earlier parts first on ties. Weights of 0 get 0. If every weight
    is 0 the total must be 0.
    """
    if total < 0:
        raise ValueError("total must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError("cannot split a positive total over zero weights")
        return [0] * len(weights)
    exact = [Fraction(total) * Fraction(w) / weight_sum for w in weights]
    parts = [int(x) for x in exact]  # floor: every x is >= 0
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts
