"""The pure rules engine: what a receipt is worth. No Django, no I/O, no clock.

outcome = rules.quote(config, customer, cart, now=now)
"""

from .engine import quote
from .levels import Activity, LevelConfig, NextLevel
from .lifetime import burns_before_usable, lot_dates, lot_terms
from .model import (
    AccrualRule,
    AccrualStep,
    Cart,
    CartLine,
    CustomerState,
    DiscountStep,
    LineOutcome,
    Outcome,
    ProgramConfig,
    Reason,
)

__all__ = [
    "AccrualRule",
    "AccrualStep",
    "Activity",
    "Cart",
    "CartLine",
    "CustomerState",
    "DiscountStep",
    "LevelConfig",
    "LineOutcome",
    "NextLevel",
    "Outcome",
    "ProgramConfig",
    "Reason",
    "burns_before_usable",
    "lot_dates",
    "lot_terms",
    "quote",
]
