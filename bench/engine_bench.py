"""The pure rules engine alone: median time of one quote for a big receipt under many
campaigns, and how it grows from a small one.

    python bench/engine_bench.py [--repeat 200]

Prints `quote_200_lines_50_campaigns_ms`, `quote_20_lines_5_campaigns_ms` and
`quote_ratio_200x50_vs_20x5` (target <= 5). No database, no Django.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from kopilka.rules import (
    AccrualRule,
    AccrualStep,
    Activity,
    Cart,
    CartLine,
    CustomerState,
    LevelConfig,
    ProgramConfig,
    quote,
)
from kopilka.rules.campaigns import Campaign

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
KINDS = ["nth_free", "gift", "multiplier", "extra_percent", "fixed_bonus"]


def scenario(lines: int, campaigns: int, seed: int = 1):
    rng = random.Random(seed)
    cart_lines = tuple(
        CartLine(
            line_no=i + 1,
            sku=f"SKU{i % 150}",
            qty=Fraction(rng.randint(1, 5)),
            unit_price=rng.randint(500, 500000),
            pos_discount=0,
            no_accrual=rng.random() < 0.05,
            no_discount=rng.random() < 0.05,
            no_bonus_payment=rng.random() < 0.05,
            segment_ids=frozenset(rng.sample(range(1, 11), rng.randint(0, 2))),
        )
        for i in range(lines)
    )
    rules_campaigns = tuple(
        Campaign(
            id=c + 1,
            kind=KINDS[c % len(KINDS)],
            priority=rng.randint(0, 10),
            segment_ids=frozenset({rng.randint(1, 10)}) if rng.random() < 0.7 else frozenset(),
            n=rng.randint(2, 5),
            set_skus=((f"SKU{rng.randint(0, 149)}", 1), (f"SKU{rng.randint(0, 149)}", 2)),
            gift_sku=f"SKU{rng.randint(0, 149)}",
            multiplier=Fraction(rng.randint(11, 30), 10),
            extra_percent=Fraction(rng.randint(1, 5), 100),
            fixed_bonus=rng.randint(1, 100) * 100,
        )
        for c in range(campaigns)
    )
    config = ProgramConfig(
        id=1,
        max_share=Fraction(1, 2),
        segment_max_share=((3, Fraction(1, 10)),),
        accrual_rules=(
            AccrualRule(id=1, steps=(AccrualStep(0, Fraction(3, 100)),)),
            AccrualRule(
                id=2, steps=(AccrualStep(0, Fraction(5, 100)),), segment_ids=frozenset({2})
            ),
        ),
        levels=(
            LevelConfig(id=1, name="base", priority=1),
            LevelConfig(id=2, name="gold", priority=2, window_days=30, min_spend=10**7),
        ),
        campaigns=rules_campaigns,
    )
    customer = CustomerState(available=10**8, activity=((30, Activity(spend=5 * 10**6, visits=7)),))
    return config, customer, Cart(lines=cart_lines, requested_spend=None, store_id=1)


def median_ms(cases: list[tuple[int, int]], repeat: int) -> list[float]:
    """Median CPU milliseconds of one quote for each (lines, campaigns) case. The cases are
    timed in turns and on this thread's CPU clock, so that other work on a shared machine
    weighs on every case alike instead of skewing the ratio."""
    inputs = [scenario(lines, campaigns) for lines, campaigns in cases]
    for config, customer, cart in inputs:
        for _ in range(max(3, repeat // 10)):
            quote(config, customer, cart, now=NOW)
    samples: list[list[float]] = [[] for _ in cases]
    clock = time.thread_time_ns
    for _ in range(repeat):
        for (config, customer, cart), bucket in zip(inputs, samples, strict=True):
            started = clock()
            quote(config, customer, cart, now=NOW)
            bucket.append((clock() - started) / 1e6)
    return [statistics.median(bucket) for bucket in samples]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)
    big, small = median_ms([(200, 50), (20, 5)], args.repeat)
    print(f"quote_200_lines_50_campaigns_ms: {big:.3f}")
    print(f"quote_20_lines_5_campaigns_ms: {small:.3f}")
    print(f"quote_ratio_200x50_vs_20x5: {big / small:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
