"""The pure rules engine: what a receipt is worth. No Django, no I/O, no clock.

outcome = rules.quote(config, customer, cart, now=now)
"""

from .engine import quote
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
    "Cart",
    "CartLine",
    "CustomerState",
    "DiscountStep",
    "LineOutcome",
    "Outcome",
    "ProgramConfig",
    "Reason",
    "quote",
]
