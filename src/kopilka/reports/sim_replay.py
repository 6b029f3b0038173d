"""The simulator's replay over plain data: simulated wallets, level activity and campaign uses
per customer and scenario, each receipt quoted by the pure engine. No Django, no database.

Money moves here by the ledger's own rules (`ledger.lots`, which the real services use too):
spend from the available lots in spend order, credit the accrual as a lot with the engine's
freeze and expiry, and on a refund give the refund's share of the spent bonuses back to the
lots they came from and claw back its share of the accrual (the sale's own lots first, then
any spendable lot; what the balance cannot cover is a shortfall).
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import NamedTuple

from kopilka import rules
from kopilka.ledger import lots
from kopilka.ledger.lots import Lot
from kopilka.rules.levels import LevelInputs, purchase

NEVER = datetime.max.replace(tzinfo=UTC)
NO_LEVEL = ""


class ReceiptRow(NamedTuple):
    """One real receipt: a sale (`refund_of` None, `lines` engine CartLines) or a refund
    (`lines` are (line_no, qty) pairs of the sale's lines it takes back)."""

    id: int
    occurred_at: datetime
    customer_id: int | None
    refund_of: int | None
    store_id: int
    offline: bool
    bonus_spent: int  # what the customer really paid with bonuses: their spending behaviour
    subtotal: int
    lines: tuple
    cart_key: tuple = ()  # what the lines were made of, in plain values: a memo key


class OpeningLot(NamedTuple):
    seq: int  # the real lot's id: spend order among lots of the same expiry and creation
    remaining: int
    available_from: datetime
    expires_at: datetime | None
    created_at: datetime


class Move(NamedTuple):
    """A real movement of points outside receipts: a credit (welcome, birthday, manual; with
    its lot's dates) or a manual debit (amount < 0)."""

    at: datetime
    amount: int
    available_from: datetime | None = None
    expires_at: datetime | None = None


class ActivityEvent(NamedTuple):
    at: datetime
    spend: int
    by_segment: tuple[tuple[int, int], ...]
    visit: int


@dataclass(frozen=True)
class Seeds:
    """What the replay needs besides the receipts, read once before it starts."""

    opening: dict[int, list[OpeningLot]] = field(default_factory=dict)
    moves: dict[int, list[Move]] = field(default_factory=dict)
    purchase_totals: dict[int, int] = field(default_factory=dict)
    activity: dict[int, list[ActivityEvent]] = field(default_factory=dict)
    groups: dict[int, frozenset[int]] = field(default_factory=dict)
    # Manual levels: (created_at, until, level id), oldest first.
    assignments: dict[int, list[tuple[datetime, datetime | None, int]]] = field(
        default_factory=dict
    )
    campaign_uses: dict[int, dict[int, int]] = field(default_factory=dict)  # before the period
    refunded: frozenset[int] = frozenset()  # sales of the period refunded within it
    store_accepts_bonus_payment: dict[int, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class ReceiptReplay:
    """What one receipt came to under one scenario (a refund: what it gave back)."""

    receipt_id: int
    customer_id: int | None
    refund: bool
    subtotal: int
    discount: int
    bonus_spent: int
    accrual: int
    campaign_bonus: int = 0
    returned: int = 0
    clawed_back: int = 0


@dataclass
class Tally:
    """Running figures of one scenario; additive, so partitions are merged by summing."""

    sales: int = 0
    refunds: int = 0
    revenue: int = 0
    refunded: int = 0
    discount: int = 0
    discount_refunded: int = 0
    accrued: int = 0
    campaign_bonus: int = 0
    spent: int = 0
    returned: int = 0
    clawed_back: int = 0
    clawback_shortfall: int = 0
    expired: int = 0
    opening: int = 0
    outstanding: int = 0
    other_credits: int = 0
    manual_debits: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    details: list[ReceiptReplay] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        for name, value in vars(other).items():
            if name == "levels":
                for level, count in value.items():
                    self.levels[level] = self.levels.get(level, 0) + count
            elif name == "details":
                self.details.extend(value)
            else:
                setattr(self, name, getattr(self, name) + value)


def _burns(lot: Lot) -> datetime:
    return lot.expires_at or NEVER


class Wallet:
    """A customer's simulated lots (`ledger.lots.Lot`; ids unique). `available` is kept current
    between the moments a lot thaws or expires (`next_change`), so most receipts read it
    without walking the lots. `lots` holds the lots with points left that have not burnt."""

    __slots__ = ("available", "expired", "lots", "next_change")

    def __init__(self):
        self.lots: dict[int, Lot] = {}
        self.available = 0
        self.expired = 0
        self.next_change = NEVER

    def refresh(self, now: datetime) -> None:
        if now < self.next_change:
            return
        available, following, kept = 0, NEVER, {}
        for lot in self.lots.values():
            if lots.burnt(lot, now):
                self.expired += lot.remaining
                continue
            kept[lot.id] = lot
            if lot.available_from <= now:
                available += lot.remaining
                following = min(following, _burns(lot))
            else:
                following = min(following, lot.available_from)
        self.lots, self.available, self.next_change = kept, available, following

    def _track(self, lot: Lot, amount: int, now: datetime) -> None:
        self.lots[lot.id] = lot
        if lot.available_from <= now:
            self.available += amount
            self.next_change = min(self.next_change, _burns(lot))
        else:
            self.next_change = min(self.next_change, lot.available_from)

    def credit(self, lot: Lot, now: datetime) -> None:
        self.refresh(now)
        self._track(lot, lot.remaining, now)

    def _take(self, order: list[Lot], amount: int, now: datetime) -> list[tuple[Lot, int]]:
        takes = lots.take(order, amount)
        for lot, part in takes:
            if lot.available_from <= now:
                self.available -= part
            if not lot.remaining:
                del self.lots[lot.id]
        return takes

    def spendable(self, now: datetime) -> list[Lot]:
        self.refresh(now)
        return lots.spendable(self.lots.values(), now)

    def spend(self, amount: int, now: datetime) -> list[tuple[Lot, int]]:
        """Take up to `amount` from the available lots, in spend order."""
        return self._take(self.spendable(now), amount, now)

    def give_back(self, lot: Lot, amount: int, now: datetime) -> None:
        """A refund returns points to the lot they came from; an expired lot takes them back
        expired (the ledger does the same)."""
        self.refresh(now)
        if lots.burnt(lot, now):
            self.expired += amount
            return
        lot.remaining += amount
        self._track(lot, amount, now)

    def clawback(self, amount: int, preferred: list[Lot], now: datetime) -> int:
        """Take back up to `amount` in the ledger's clawback order (`lots.clawback_order`)."""
        self.refresh(now)
        order = lots.clawback_order(preferred, self.spendable(now), now)
        return sum(part for _, part in self._take(order, amount, now))

    def close(self, end: datetime) -> int:
        """Expire what is due by `end`; the points left (available and pending)."""
        self.next_change = datetime.min.replace(tzinfo=UTC)
        self.refresh(end)
        return sum(lot.remaining for lot in self.lots.values())


class Activity:
    """Purchases within each window a scenario's levels use (refunds deducted), as
    `programs.standing.activities_of` counts them: occurred at or after now - window."""

    __slots__ = ("windows",)

    def __init__(self, windows: tuple[int, ...]):
        # window -> [events within it, spend, {segment: spend}, visits]
        self.windows = {w: [deque(), 0, defaultdict(int), 0] for w in windows}

    def add(self, event: ActivityEvent) -> None:
        for days, window in self.windows.items():
            if days:  # the lifetime window (0) never drops anything: it keeps sums only
                window[0].append(event)
            window[1] += event.spend
            for segment_id, amount in event.by_segment:
                window[2][segment_id] += amount
            window[3] += event.visit

    def state(self, now: datetime) -> tuple[tuple[int, rules.Activity], ...]:
        result = []
        for days, window in self.windows.items():
            events, since = window[0], now - timedelta(days=days)
            while days and events and events[0].at < since:
                old = events.popleft()
                window[1] -= old.spend
                for segment_id, amount in old.by_segment:
                    window[2][segment_id] -= amount
                window[3] -= old.visit
            by_segment = tuple(sorted((s, a) for s, a in window[2].items() if a))
            result.append((days, rules.Activity(window[1], by_segment, window[3])))
        return tuple(result)


def event_of(at, lines, values, visit: int) -> ActivityEvent:
    """An activity event from cart lines and each line's spend (after discounts), as the
    engine counts a receipt (`rules.levels.purchase`)."""
    spend, by_segment = purchase(lines, values)
    return ActivityEvent(at, spend, tuple(sorted(by_segment.items())), visit)


class _Sale:
    """What a refund of a replayed sale needs: its lines' figures, its lots and spend."""

    __slots__ = ("cart_lines", "figures", "lots", "refunded_qty", "returned", "spent_from")

    def __init__(self, cart_lines, figures, lots, spent_from):
        self.cart_lines = {line.line_no: line for line in cart_lines}
        self.figures = figures  # line_no -> (amount, discount, bonus_spent, accrual)
        self.lots = lots  # the lots its accrual opened
        self.spent_from = spent_from  # [(lot, amount)] in the order taken
        self.refunded_qty: dict[int, Fraction] = {}
        self.returned: dict[int, int] = {}  # id(lot) -> points given back so far


class _Customer:
    __slots__ = ("activity", "config", "uses", "wallet")

    def __init__(self, windows):
        self.wallet = Wallet()
        self.activity = Activity(windows) if windows else None
        self.uses: dict[int, int] = {}
        self.config = None  # the scenario's config with this customer's campaign uses left


_MEMO_MAX = 50_000


def _memoizable(config: rules.ProgramConfig) -> bool:
    """Without levels, campaigns, an active window or a list of stores, the engine's answer
    depends only on the cart, the spend asked, the balance (when asked to spend) and the
    purchases total (accumulative discounts); the moment only moves the new lot's dates along
    with it. The engine is pure, so such a receipt seen before needs no second quote."""
    return not (
        config.levels
        or config.campaigns
        or config.active_from
        or config.active_to
        or config.store_ids is not None
    )


class ScenarioReplay:
    """One scenario's replay: its customers' simulated state and its running tally."""

    def __init__(self, config, return_spent_on_refund: bool, refunded: frozenset, details: bool):
        self.config = config
        self.refunded = refunded
        self.return_spent = return_spent_on_refund
        self.windows = tuple(sorted({level.window_days for level in config.levels}))
        self.limited = any(c.uses_left is not None for c in config.campaigns)
        self.inert_for_anonymous = not config.gives_discount and not config.campaigns
        self.level_ids = {level.id for level in config.levels}
        self.customers: dict[int, _Customer] = {}
        self.sales: dict[int, _Sale] = {}
        self.tally = Tally()
        self.details = details
        self.seq = 0
        self.memo: dict | None = {} if _memoizable(config) else None
        self.accumulative = config.discount_by_purchases

    def customer(self, customer_id: int, seeds: Seeds) -> _Customer:
        found = self.customers.get(customer_id)
        if found is None:
            found = self.customers[customer_id] = _Customer(self.windows)
            for lot in seeds.opening.get(customer_id, ()):
                opened = Lot(
                    lot.seq, lot.remaining, 0, lot.available_from, lot.expires_at, lot.created_at
                )
                found.wallet.credit(opened, lot.created_at)
                self.tally.opening += lot.remaining
            if found.activity is not None:
                for event in seeds.activity.get(customer_id, ()):
                    found.activity.add(event)
            found.uses = dict(seeds.campaign_uses.get(customer_id, {}))
        return found

    def _new_lot(self, amount, available_from, expires_at, now) -> Lot:
        self.seq += 1
        return Lot(1 << 62 | self.seq, amount, 0, available_from, expires_at, now)

    def move(self, customer: _Customer, move: Move) -> None:
        if move.amount > 0:
            lot = self._new_lot(move.amount, move.available_from, move.expires_at, move.at)
            customer.wallet.credit(lot, move.at)
            self.tally.other_credits += move.amount
        else:
            taken = customer.wallet.spend(-move.amount, move.at)
            self.tally.manual_debits += sum(take for _, take in taken)

    def _config_for(self, customer: _Customer) -> rules.ProgramConfig:
        if not self.limited or not customer.uses:
            return self.config
        if customer.config is None:
            customer.config = replace(
                self.config,
                campaigns=tuple(
                    c
                    if c.uses_left is None
                    else replace(c, uses_left=max(0, c.uses_left - customer.uses.get(c.id, 0)))
                    for c in self.config.campaigns
                ),
            )
        return customer.config

    def _state(self, customer: _Customer, customer_id, row, seeds, purchase_total):
        activity = manual = None
        groups = frozenset()
        if customer.activity is not None:
            activity = customer.activity.state(row.occurred_at)
            groups = seeds.groups.get(customer_id, frozenset())
            manual = _manual_level(seeds, customer_id, row.occurred_at, self.level_ids)
        customer.wallet.refresh(row.occurred_at)
        return rules.CustomerState(
            available=customer.wallet.available,
            purchase_total=purchase_total,
            group_ids=groups,
            activity=activity or (),
            manual_level_id=manual,
        )

    def sale(self, row: ReceiptRow, cart: rules.Cart, seeds: Seeds, purchase_total: int) -> None:
        tally, now = self.tally, row.occurred_at
        tally.sales += 1
        tally.revenue += row.subtotal
        if row.customer_id is None:
            if self.inert_for_anonymous:  # the engine gives an anonymous receipt nothing here
                self._detail(row, 0, 0, 0, 0)
                return
            outcome, _, _ = self._quote(self.config, None, cart, row)
            tally.discount += outcome.discount
            self._remember(row, cart, outcome, [], [])
            self._detail(row, outcome.discount, 0, 0, 0)
            return
        customer = self.customer(row.customer_id, seeds)
        state = self._state(customer, row.customer_id, row, seeds, purchase_total)
        outcome, available_from, expires_at = self._quote(
            self._config_for(customer), state, cart, row
        )
        wallet = customer.wallet
        spent_from = wallet.spend(outcome.bonus_spent, now) if outcome.bonus_spent else []
        lots = []
        if outcome.campaign_bonus:
            lot = self._new_lot(outcome.campaign_bonus, available_from or now, expires_at, now)
            wallet.credit(lot, now)
        if outcome.accrual and not (expires_at is not None and expires_at <= now):
            lot = self._new_lot(outcome.accrual, available_from, expires_at, now)
            wallet.credit(lot, now)
            lots.append(lot)
        tally.discount += outcome.discount
        tally.spent += outcome.bonus_spent
        tally.accrued += outcome.accrual
        tally.campaign_bonus += outcome.campaign_bonus
        if outcome.campaigns_applied:
            for campaign_id in outcome.campaigns_applied:
                customer.uses[campaign_id] = customer.uses.get(campaign_id, 0) + 1
            customer.config = None
        if customer.activity is not None:
            values = [o.amount - o.discount for o in outcome.lines]
            customer.activity.add(event_of(now, cart.lines, values, 1))
        self._remember(row, cart, outcome, lots, spent_from)
        self._detail(
            row, outcome.discount, outcome.bonus_spent, outcome.accrual, outcome.campaign_bonus
        )

    def _quote(self, config, state, cart, row):
        """The engine's outcome and the new lot's dates, from the memo when it may answer."""
        now = row.occurred_at
        if self.memo is None or not row.cart_key:
            outcome = rules.quote(config, state, cart, now=now)
            return outcome, outcome.accrual_available_from, outcome.accrual_expires_at
        key = (
            row.cart_key,
            cart.requested_spend,
            cart.spend_allowed,
            cart.store_accepts_bonus_payment,
            None if state is None else state.available if self.spends(cart) else -1,
            state.purchase_total if self.accumulative and state is not None else None,
        )
        found = self.memo.get(key)
        if found is None:
            if len(self.memo) > _MEMO_MAX:
                self.memo.clear()
            found = self.memo[key] = (rules.quote(config, state, cart, now=now), now)
        outcome, then = found
        available_from, expires_at = outcome.accrual_available_from, outcome.accrual_expires_at
        if then != now and available_from is not None:
            # The same lot opened now (a memoizable configuration has no levels: the
            # program's own freeze and lifetime).
            available_from, expires_at = rules.lot_dates(
                now,
                freeze_days=config.freeze_days,
                lifetime_days=config.lifetime_days,
                lifetime_from_accrual=config.lifetime_from_accrual,
            )
        return outcome, available_from, expires_at

    def spends(self, cart: rules.Cart) -> bool:
        """Whether the balance can matter: only a bonus program asked to spend reads it."""
        return bool(cart.requested_spend) and self.config.gives_bonuses

    def _remember(self, row, cart, outcome, lots, spent_from) -> None:
        if row.id in self.refunded:
            figures = {
                o.line_no: (o.amount, o.discount, o.bonus_spent, o.accrual) for o in outcome.lines
            }
            self.sales[row.id] = _Sale(cart.lines, figures, lots, spent_from)

    def refund(self, row: ReceiptRow, seeds: Seeds) -> None:
        """Give back and claw back the refund's share of the replayed sale (a sale before the
        period was not replayed: its refund lowers the revenue only)."""
        tally, now = self.tally, row.occurred_at
        tally.refunds += 1
        sale = self.sales.get(row.refund_of)
        if sale is None:
            tally.refunded += row.subtotal
            self._detail(row, 0, 0, 0, 0)
            return
        amount = discount = spent = accrued = 0
        values, lines = [], []
        for line_no, qty in row.lines:
            cart_line = sale.cart_lines.get(line_no)
            if cart_line is None:
                continue
            before = sale.refunded_qty.get(line_no, Fraction(0))
            after = sale.refunded_qty[line_no] = before + qty
            total = Fraction(cart_line.qty)
            shares = [lots.refund_share(v, before, after, total) for v in sale.figures[line_no]]
            amount += shares[0]
            discount += shares[1]
            spent += shares[2]
            accrued += shares[3]
            values.append(-(shares[0] - shares[1]))
            lines.append(cart_line)
        tally.refunded += amount
        tally.discount_refunded += discount
        returned = clawed = 0
        if row.customer_id is not None:
            customer = self.customer(row.customer_id, seeds)
            if self.return_spent and spent:
                returned = self._give_back(customer.wallet, sale, spent, now)
            if accrued:
                clawed = customer.wallet.clawback(accrued, sale.lots, now)
            if customer.activity is not None:
                customer.activity.add(event_of(now, lines, values, 0))
        tally.returned += returned
        tally.clawed_back += clawed
        tally.clawback_shortfall += accrued - clawed
        self._detail(row, discount, spent, accrued, 0, returned, clawed)

    def _give_back(self, wallet: Wallet, sale: _Sale, amount: int, now) -> int:
        left = amount
        for lot, take in sale.spent_from:
            give = min(take - sale.returned.get(id(lot), 0), left)
            if give > 0:
                wallet.give_back(lot, give, now)
                sale.returned[id(lot)] = sale.returned.get(id(lot), 0) + give
                left -= give
        return amount - left

    def _detail(self, row, discount, spent, accrual, campaign, returned=0, clawed=0) -> None:
        if self.details:
            self.tally.details.append(
                ReceiptReplay(
                    row.id,
                    row.customer_id,
                    row.refund_of is not None,
                    row.subtotal,
                    discount,
                    spent,
                    accrual,
                    campaign,
                    returned,
                    clawed,
                )
            )

    def close(self, customer_id: int, end: datetime, seeds: Seeds, bought: bool) -> None:
        customer = self.customer(customer_id, seeds)
        self.tally.outstanding += customer.wallet.close(end)
        self.tally.expired += customer.wallet.expired
        if bought and self.config.levels:
            activity = customer.activity.state(end) if customer.activity else ()
            held = (
                LevelInputs(
                    activity=activity,
                    group_ids=seeds.groups.get(customer_id, frozenset()),
                    manual_level_id=_manual_level(seeds, customer_id, end, self.level_ids),
                )
                .standing(self.config.levels)
                .level
            )
            name = held.name if held is not None else NO_LEVEL
            self.tally.levels[name] = self.tally.levels.get(name, 0) + 1


def _manual_level(seeds: Seeds, customer_id, now, level_ids) -> int | None:
    chosen = None
    for created_at, until, level_id in seeds.assignments.get(customer_id, ()):
        if created_at <= now and (until is None or until > now) and level_id in level_ids:
            chosen = level_id
    return chosen


class Replay:
    """All scenarios over one stream of receipts (one partition of the customers)."""

    def __init__(self, scenarios, seeds: Seeds, *, details: bool = False):
        self.seeds = seeds
        self.scenarios = [
            ScenarioReplay(config, back, seeds.refunded, details) for config, back in scenarios
        ]
        self.moves = {cid: deque(moves) for cid, moves in seeds.moves.items()}
        self.purchase_totals = dict(seeds.purchase_totals)
        self.bought: set[int] = set()

    def _moves_until(self, customer_id: int, now: datetime, inclusive: bool = True) -> None:
        pending = self.moves.get(customer_id)
        while pending and (pending[0].at <= now if inclusive else pending[0].at < now):
            move = pending.popleft()
            for scenario in self.scenarios:
                scenario.move(scenario.customer(customer_id, self.seeds), move)

    def receipt(self, row: ReceiptRow) -> None:
        customer_id = row.customer_id
        if customer_id is not None:
            self.bought.add(customer_id)
            self._moves_until(customer_id, row.occurred_at)
        if row.refund_of is not None:
            for scenario in self.scenarios:
                scenario.refund(row, self.seeds)
            if customer_id is not None:
                self.purchase_totals[customer_id] = (
                    self.purchase_totals.get(customer_id, 0) - row.subtotal
                )
            return
        cart = rules.Cart(
            lines=row.lines,
            requested_spend=row.bonus_spent,
            store_accepts_bonus_payment=self.seeds.store_accepts_bonus_payment.get(
                row.store_id, True
            ),
            spend_allowed=not row.offline,
            store_id=row.store_id,
        )
        total = self.purchase_totals.get(customer_id, 0) if customer_id is not None else 0
        for scenario in self.scenarios:
            scenario.sale(row, cart, self.seeds, total)
        if customer_id is not None:
            self.purchase_totals[customer_id] = total + row.subtotal

    def finish(self, end: datetime) -> list[Tally]:
        everyone = self.bought | self.seeds.opening.keys() | self.moves.keys()
        for customer_id in sorted(everyone):
            self._moves_until(customer_id, end, inclusive=False)
            for scenario in self.scenarios:
                scenario.close(customer_id, end, self.seeds, customer_id in self.bought)
        return [scenario.tally for scenario in self.scenarios]
