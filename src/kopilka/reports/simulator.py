"""The program simulator: a period's real receipts replayed through the pure engine under other
program configurations, side by side. It only reads: no ledger row, receipt or audit row.

    report = simulate(merchant=m, start=s, end=e, scenarios=[
        current_scenario(program),
        bonus_scenario(percent=5, max_share_percent=30, lifetime_days=90),
        fixed_discount_scenario(percent=3),
        combined_scenario(discount_percent=3, percent=2),
    ], processes=2)

How a period is replayed (every scenario the same way):

* Receipts are the period's confirmed sales and refunds (`occurred_at` in [start, end), of
  the given stores), in the order they occurred, each quoted by `rules.quote` at its moment.
  Line flags are those stored with the sale (the catalogue's then, plus the till's own);
  segments are the catalogue's now.
* Spending is the customers' real behaviour: a customer asks to spend on a receipt exactly
  what they really spent on it; the engine caps it by the simulated balance and the
  scenario's caps. A scenario where nobody really spent (a discount program today) therefore
  shows no spending. Anonymous receipts earn and spend nothing (discounts apply to them).
* Starting balances are the customers' real lots at `start` (points left then, with their
  freeze and expiry), summed over all their accounts of the merchant (whatever the stores).
  Points that no receipt moved within the period (welcome, birthday and manual credits,
  manual debits) are applied when they happened, the same in every scenario. Lots expire in
  simulated time.
* A refund of a sale replayed in the period gives back its share of that sale's simulated
  figures line by line, as the real refund does: spent bonuses return to the lots they came
  from (when the scenario returns them), the accrual is clawed back from the sale's own lots
  first, then from any spendable lot; what the balance cannot cover is a shortfall. A refund
  of a sale from before the period lowers the revenue only.
* Levels count purchases after the scenario's discounts within each window, seeded with the
  real purchases before the period; groups and manual levels are today's. Campaign uses with
  a limit are counted per customer from the real uses before the period.

Customers are independent, so with `processes` > 1 (PostgreSQL, outside a transaction) each
process replays the customers whose id modulo the count is its index, reading its own part of
the database, and the figures are summed. The engine is pure, so a scenario without levels,
campaigns or an active window quotes a receipt like one seen before (same lines, spend asked
and, when spending, balance) only once (`sim_replay._memoizable`).
"""

from __future__ import annotations

import gc
import multiprocessing
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from django.db import connection, connections, transaction
from django.utils.translation import gettext as _

from kopilka import rules
from kopilka.errors import ValidationFailed
from kopilka.merchants.models import Merchant
from kopilka.programs.selectors import campaigns_for, to_rules

from . import sql
from .sim_replay import NO_LEVEL, ReceiptReplay, Replay, Tally

Percent = int | str | Decimal | Fraction


@dataclass(frozen=True)
class Scenario:
    name: str
    config: rules.ProgramConfig
    return_spent_on_refund: bool = True


def _share(percent: Percent) -> Fraction:
    """5 (percent) as the engine's share 1/20; exact for "2.5" and Decimal("0.125") too."""
    exact = percent if isinstance(percent, Fraction) else Fraction(Decimal(str(percent)))
    return exact / 100


def _percent_text(percent: Percent) -> str:
    if isinstance(percent, Fraction):
        return f"{float(percent):g}"
    return f"{Decimal(str(percent)).normalize():f}"


def bonus_scenario(
    *,
    percent: Percent,
    max_share_percent: Percent = 100,
    lifetime_days: int | None = None,
    freeze_days: int = 0,
    whole_bonuses: bool = True,
    lifetime_from_accrual: bool = False,
    name: str | None = None,
) -> Scenario:
    """Cashback `percent` on every receipt, at most `max_share_percent` of it payable by
    bonuses; accruals rounded down to whole bonuses unless `whole_bonuses` is False; the
    lifetime counted from the end of the freeze unless `lifetime_from_accrual`."""
    config = _bonus_config(
        percent, max_share_percent, lifetime_days, freeze_days, whole_bonuses, lifetime_from_accrual
    )
    default = _("%(percent)s %% bonuses, up to %(share)s %% of a receipt") % {
        "percent": _percent_text(percent),
        "share": _percent_text(max_share_percent),
    }
    return Scenario(name or default, config)


def _bonus_config(
    percent, max_share_percent, lifetime_days, freeze_days, whole_bonuses, lifetime_from_accrual
) -> rules.ProgramConfig:
    return rules.ProgramConfig(
        id=0,
        kind=rules.model.PROGRAM_BONUS,
        accrual_rules=(rules.AccrualRule(id=0, steps=(rules.AccrualStep(0, _share(percent)),)),),
        max_share=_share(max_share_percent),
        accrual_unit=100 if whole_bonuses else 1,
        freeze_days=freeze_days,
        lifetime_days=lifetime_days,
        lifetime_from_accrual=lifetime_from_accrual,
    )


def combined_scenario(
    *,
    discount_percent: Percent,
    percent: Percent,
    max_share_percent: Percent = 100,
    lifetime_days: int | None = None,
    freeze_days: int = 0,
    whole_bonuses: bool = True,
    lifetime_from_accrual: bool = False,
    accrue_on_discounted: bool = True,
    name: str | None = None,
) -> Scenario:
    """A fixed `discount_percent` and cashback `percent` on the amount after the discount
    (none on discounted items unless `accrue_on_discounted`), bonuses paying as in
    `bonus_scenario`."""
    config = replace(
        _bonus_config(
            percent,
            max_share_percent,
            lifetime_days,
            freeze_days,
            whole_bonuses,
            lifetime_from_accrual,
        ),
        kind=rules.model.PROGRAM_COMBINED,
        fixed_discount_percent=_share(discount_percent),
        accrue_on_discounted=accrue_on_discounted,
    )
    default = _("%(discount)s %% discount and %(percent)s %% bonuses") % {
        "discount": _percent_text(discount_percent),
        "percent": _percent_text(percent),
    }
    return Scenario(name or default, config)


def fixed_discount_scenario(*, percent: Percent, name: str | None = None) -> Scenario:
    config = rules.ProgramConfig(
        id=0, kind=rules.model.PROGRAM_FIXED_DISCOUNT, fixed_discount_percent=_share(percent)
    )
    default = _("%(percent)s %% fixed discount") % {"percent": _percent_text(percent)}
    return Scenario(name or default, config)


def accumulative_discount_scenario(
    *, steps: Sequence[tuple[int, Percent]], name: str | None = None
) -> Scenario:
    """`steps`: (purchases total in kopecks from which it applies, discount percent)."""
    config = rules.ProgramConfig(
        id=0,
        kind=rules.model.PROGRAM_ACCUMULATIVE_DISCOUNT,
        discount_steps=tuple(
            rules.DiscountStep(total, _share(percent)) for total, percent in sorted(steps)
        ),
    )
    default = _("Accumulative discount up to %(percent)s %%") % {
        "percent": _percent_text(max((p for _t, p in steps), key=_share, default=0))
    }
    return Scenario(name or default, config)


def current_scenario(program, *, name: str | None = None) -> Scenario:
    """The program as it is configured now, with its running till campaigns."""
    config = to_rules(program)
    campaigns = campaigns_for(merchant=program.merchant, program=program)
    if campaigns:
        config = replace(config, campaigns=campaigns)
    return Scenario(name or program.name, config, program.return_spent_on_refund)


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario's figures over the period, in kopecks.

    Identity: opening + other_credits + issued - spent - expired - manual_debits
    == outstanding (issued net of clawbacks, spent net of returns)."""

    name: str
    receipts: int  # sales replayed
    refunds: int
    revenue: int  # purchase sums of the sales less the refunded amounts (the same everywhere)
    discount: int  # discounts given, less the refunded share
    accrued: int  # bonuses accrued on sales
    campaign_bonus: int  # fixed campaign bonuses
    clawed_back: int  # accruals taken back on refunds
    clawback_shortfall: int  # what refunds could not take back (the balance was spent)
    spent: int  # bonuses paid on sales
    returned: int  # spent bonuses given back on refunds
    expired: int  # points that expired within the period
    opening: int  # real points at the start (available and pending)
    other_credits: int  # welcome, birthday and manual credits within the period
    manual_debits: int
    outstanding: int  # points left at the end (available and pending): the liability
    levels: tuple[tuple[str, int], ...]  # customers who bought in the period, per level at end
    details: tuple[ReceiptReplay, ...] = ()

    @property
    def issued(self) -> int:
        return self.accrued + self.campaign_bonus - self.clawed_back

    @property
    def spent_net(self) -> int:
        return self.spent - self.returned

    @property
    def cost(self) -> int:
        """What the program cost in money: discounts plus bonuses that paid for purchases."""
        return self.discount + self.spent_net

    @property
    def cost_with_liability(self) -> int:
        """Discounts plus every bonus issued, as if each will be spent (an upper bound)."""
        return self.discount + self.issued

    @property
    def cost_share(self) -> Fraction | None:
        return Fraction(self.cost, self.revenue) if self.revenue else None

    @property
    def cost_with_liability_share(self) -> Fraction | None:
        return Fraction(self.cost_with_liability, self.revenue) if self.revenue else None


@dataclass(frozen=True)
class SimulationReport:
    start: datetime
    end: datetime
    results: tuple[ScenarioResult, ...]
    processes: int
    seconds: float

    def result(self, name: str) -> ScenarioResult:
        return next(result for result in self.results if result.name == name)


def simulate(
    *,
    merchant: Merchant,
    start: datetime,
    end: datetime,
    scenarios: Sequence[Scenario],
    stores: Iterable | None = None,
    processes: int = 1,
    details: bool = False,
) -> SimulationReport:
    """Replay the period's receipts under each scenario (see the module's docstring).
    `details` keeps every receipt's figures per scenario (for checks and small exports)."""
    if not scenarios or start >= end or processes < 1:
        raise ValidationFailed(start=str(start), end=str(end), processes=processes)
    if len({s.name for s in scenarios}) != len(scenarios):
        raise ValidationFailed(scenarios=[s.name for s in scenarios])
    stores = None if stores is None else [getattr(s, "pk", s) for s in stores]
    # Other processes read committed rows on their own connections: PostgreSQL only, and
    # only when this connection holds no transaction of its own they could not see.
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        processes = 1
    job = _Job(merchant.pk, start, end, tuple(scenarios), stores, details)
    started = time.monotonic()
    if processes == 1:
        parts = [job.run(sql.Part())]
    else:
        with multiprocessing.get_context("fork").Pool(processes, _fresh_connections) as pool:
            parts = pool.map(job.run_in_child, [sql.Part(i, processes) for i in range(processes)])
    seconds = time.monotonic() - started
    results = []
    for n, scenario in enumerate(scenarios):
        tally = Tally()
        for part in parts:
            tally.merge(part[n])
        results.append(_result(scenario, tally))
    return SimulationReport(start, end, tuple(results), processes, seconds)


@dataclass(frozen=True)
class _Job:
    merchant_id: int
    start: datetime
    end: datetime
    scenarios: tuple[Scenario, ...]
    stores: list | None
    details: bool

    def run(self, part: sql.Part) -> list[Tally]:
        merchant = Merchant.objects.get(pk=self.merchant_id)
        configs = [s.config for s in self.scenarios]
        levels = tuple({level.id: level for c in configs for level in c.levels}.values())
        limited = sorted({c.id for cf in configs for c in cf.campaigns if c.uses_left is not None})
        with _snapshot(), _without_cycle_collector():
            catalog = sql.Catalog(merchant)
            seeds = sql.seeds(
                merchant,
                self.start,
                self.end,
                stores=self.stores,
                part=part,
                catalog=catalog,
                levels=levels,
                campaign_ids=limited,
                discounts=any(c.discount_by_purchases for c in configs),
            )
            replay = Replay(
                [(s.config, s.return_spent_on_refund) for s in self.scenarios],
                seeds,
                details=self.details,
            )
            for row in sql.receipts(
                merchant, self.start, self.end, stores=self.stores, part=part, catalog=catalog
            ):
                replay.receipt(row)
        return replay.finish(self.end)

    def run_in_child(self, part: sql.Part) -> list[Tally]:
        try:
            return self.run(part)
        finally:
            connections.close_all()


@contextmanager
def _without_cycle_collector():
    """The replay makes no reference cycles: the cyclic collector would only walk its growing
    state (wallets, remembered engine answers) again and again, a third of the run's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _snapshot():
    """One read-only snapshot for all of a process's queries, when this is the outermost
    transaction (inside a caller's transaction its own snapshot rules)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return sql.read_only_snapshot()
    return transaction.atomic()


# The parent's connections, inherited by a forked worker: kept referenced and never used, so
# that freeing them does not close the parent's sockets from the child.
_INHERITED: list = []


def _fresh_connections() -> None:
    from asgiref.local import Local

    _INHERITED.append(connections._connections)
    connections._connections = Local(connections.thread_critical)


def _result(scenario: Scenario, tally: Tally) -> ScenarioResult:
    order = [level.name for level in sorted(scenario.config.levels, key=lambda lv: lv.priority)]
    levels = tuple((name, tally.levels.get(name, 0)) for name in order)
    if tally.levels.get(NO_LEVEL):
        levels += ((NO_LEVEL, tally.levels[NO_LEVEL]),)
    return ScenarioResult(
        name=scenario.name,
        receipts=tally.sales,
        refunds=tally.refunds,
        revenue=tally.revenue - tally.refunded,
        discount=tally.discount - tally.discount_refunded,
        accrued=tally.accrued,
        campaign_bonus=tally.campaign_bonus,
        clawed_back=tally.clawed_back,
        clawback_shortfall=tally.clawback_shortfall,
        spent=tally.spent,
        returned=tally.returned,
        expired=tally.expired,
        opening=tally.opening,
        other_credits=tally.other_credits,
        manual_debits=tally.manual_debits,
        outstanding=tally.outstanding,
        levels=levels,
        details=tuple(tally.details),
    )
