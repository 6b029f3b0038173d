"""The reports app's hand-written statements: the simulator's reads, a period's receipts
streamed in chunks (lines fetched per chunk in one query) and, set-based, everything else the
replay starts from, in one read-only snapshot. Plain SQL, plain tuples.

Every query is scoped by the merchant and by the partition of customers being replayed
(customer id modulo the number of processes; anonymous receipts by receipt id).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from django.db import connection, transaction

from kopilka import hotsql, rules
from kopilka.catalog.models import Product
from kopilka.catalog.selectors import SegmentIndex, category_tree
from kopilka.customers.models import Customer
from kopilka.ledger.models import Account, Entry, EntryKind, Lot
from kopilka.merchants.models import Store
from kopilka.programs.models import CampaignUse, LevelAssignment
from kopilka.sales.models import Receipt, ReceiptLine

from .sim_replay import Move, OpeningLot, ReceiptRow, Seeds, event_of

CHUNK = 5000
NON_RECEIPT_CREDITS = (EntryKind.WELCOME, EntryKind.BIRTHDAY, EntryKind.MANUAL_CREDIT)
_CART_LINES_MAX = 200_000

R = Receipt._meta.db_table
RL = ReceiptLine._meta.db_table


@dataclass(frozen=True)
class Part:
    """The customers one process replays: id % count == index (anonymous: receipt id)."""

    index: int = 0
    count: int = 1

    def sql(self, customer: str, receipt: str | None = None) -> str:
        if self.count == 1:
            return ""
        own = f"{customer} %% {self.count} = {self.index}"
        if receipt is None:
            return f" AND {own}"
        return f" AND ({own} OR ({customer} IS NULL AND {receipt} %% {self.count} = {self.index}))"


def _aware(value):
    """SQLite hands back naive UTC datetimes from raw queries; PostgreSQL aware ones."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


class Catalog:
    """Products once: SKU and segments by product id, and the engine's cart lines cached by
    everything they are made of (tills sell the same items at the same prices)."""

    def __init__(self, merchant):
        index = SegmentIndex(merchant, category_tree(merchant=merchant))
        self.products = {
            pk: (sku, index.of_ids(pk, category_id))
            for pk, sku, category_id in Product.objects.filter(merchant=merchant).values_list(
                "pk", "sku", "category_id"
            )
        }
        self._lines: dict[tuple, rules.CartLine] = {}
        self._qty: dict[int, Fraction] = {}

    def cart_line(self, key: tuple) -> rules.CartLine:
        """key: (line_no, product_id, milli_qty, price, pos_discount, flags, sku)."""
        found = self._lines.get(key)
        if found is None:
            line_no, product_id, milli_qty, price, pos_discount, flags, sku = key
            if len(self._lines) > _CART_LINES_MAX:
                self._lines.clear()
            known_sku, segments = self.products.get(product_id, (sku, frozenset()))
            found = self._lines[key] = rules.CartLine(
                line_no=line_no,
                sku=known_sku,
                qty=self.qty(milli_qty),
                unit_price=price,
                pos_discount=pos_discount,
                no_accrual=bool(flags & 1),
                no_discount=bool(flags & 2),
                no_bonus_payment=bool(flags & 4),
                segment_ids=segments,
            )
        return found

    def qty(self, milli_qty: int) -> Fraction | int:
        """Whole quantities as ints: exact like Fractions, and much cheaper to compare."""
        found = self._qty.get(milli_qty)
        if found is None:
            whole, rest = divmod(milli_qty, 1000)
            found = self._qty[milli_qty] = Fraction(milli_qty, 1000) if rest else whole
        return found


_RECEIPTS = (
    f"SELECT id, occurred_at, customer_id, refund_of_id, store_id, offline, bonus_spent, "
    f"subtotal FROM {R} WHERE merchant_id = %s AND status = 'confirmed' "
    f"AND occurred_at >= %s AND occurred_at < %s"
)
# The line flags stored with a sale are the ones its quote used: the catalogue's at the time
# and the till's own exclusions. Quantities come as integer thousandths (numeric(14, 3)).
_LINES = (
    "SELECT receipt_id, line_no, product_id, CAST(ROUND(qty * 1000) AS BIGINT), unit_price, "
    "pos_discount, (CASE WHEN no_accrual THEN 1 ELSE 0 END) "
    "+ (CASE WHEN no_discount THEN 2 ELSE 0 END) + (CASE WHEN no_bonus_payment THEN 4 ELSE 0 END), "
    f"CASE WHEN product_id IS NULL THEN sku ELSE '' END FROM {RL} WHERE receipt_id IN "
)


def _stores_sql(stores) -> tuple[str, list]:
    if stores is None:
        return "", []
    ids = [getattr(s, "pk", s) for s in stores]
    if not ids:
        return " AND 1 = 0", []
    return f" AND store_id IN ({', '.join(['%s'] * len(ids))})", ids


def receipts(merchant, start, end, *, stores, part: Part, catalog: Catalog) -> Iterator[ReceiptRow]:
    """The period's confirmed receipts, sales and refunds, in the order they occurred."""
    where, params = _stores_sql(stores)
    sql = (
        _RECEIPTS
        + where
        + part.sql("customer_id", "COALESCE(refund_of_id, id)")
        + " ORDER BY occurred_at, id"
    )
    with connection.chunked_cursor() as stream, connection.cursor() as cursor:
        stream.execute(sql, _adapted([merchant.pk, start, end, *params]))
        while chunk := stream.fetchmany(CHUNK):
            ids = [row[0] for row in chunk]
            if connection.vendor == "postgresql":  # one array parameter, not thousands
                cursor.execute(_LINES + "(SELECT unnest(%s::bigint[]))", [ids])
            else:
                cursor.execute(_LINES + f"({', '.join(['%s'] * len(ids))})", ids)
            lines = defaultdict(list)
            for line in cursor.fetchall():
                lines[line[0]].append(line[1:])
            for rid, at, customer_id, refund_of, store_id, offline, spent, subtotal in chunk:
                rows = tuple(sorted(lines.get(rid, ())))
                if refund_of is None:
                    cart_lines = tuple(catalog.cart_line(line) for line in rows)
                else:
                    cart_lines = tuple((line[0], catalog.qty(line[2])) for line in rows)
                yield ReceiptRow(
                    rid,
                    _aware(at),
                    customer_id,
                    refund_of,
                    store_id,
                    bool(offline),
                    spent,
                    subtotal,
                    cart_lines,
                    rows,
                )


def seeds(
    merchant, start, end, *, stores, part: Part, catalog: Catalog, levels, campaign_ids, discounts
) -> Seeds:
    """The state the replay starts from, each part in one set-based query."""
    return Seeds(
        opening=_opening_lots(merchant, start, part),
        moves=_moves(merchant, start, end, part),
        purchase_totals=_purchase_totals(merchant, start, part) if discounts else {},
        activity=_activity(merchant, start, levels, part, catalog) if levels else {},
        groups=_groups(merchant, part) if levels else {},
        assignments=_assignments(merchant, levels, part) if levels else {},
        campaign_uses=_campaign_uses(merchant, start, campaign_ids, part) if campaign_ids else {},
        refunded=_refunded(merchant, start, end, stores, part),
        store_accepts_bonus_payment=dict(
            Store.objects.filter(merchant=merchant).values_list("pk", "accepts_bonus_payment")
        ),
    )


def _adapted(params: list) -> list:
    """Moments as the database compares them: SQLite keeps UTC text, so a moment in the
    merchant's zone ("00:00+03:00") would compare as text with the wrong hours."""
    db = hotsql.default_db()
    return [hotsql.moment(db, p) if isinstance(p, datetime) else p for p in params]


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, _adapted(params))
        return cursor.fetchall()


def _opening_lots(merchant, start, part: Part) -> dict[int, list[OpeningLot]]:
    """Each lot's points at `start` replayed from the journal (as `account_balance_at`), for
    lots not expired by then: pending ones keep their freeze."""
    rows = _fetch(
        f"SELECT a.customer_id, l.id, CAST(SUM(e.amount) AS BIGINT), l.available_from, "
        f"l.expires_at, l.created_at "
        f"FROM {Entry._meta.db_table} e JOIN {Lot._meta.db_table} l ON l.id = e.lot_id "
        f"JOIN {Account._meta.db_table} a ON a.id = l.account_id "
        f"WHERE l.merchant_id = %s AND e.created_at < %s "
        f"AND (l.expires_at IS NULL OR l.expires_at > %s){part.sql('a.customer_id')} "
        f"GROUP BY a.customer_id, l.id, l.available_from, l.expires_at, l.created_at "
        f"HAVING SUM(e.amount) > 0",
        [merchant.pk, start, start],
    )
    opening = defaultdict(list)
    for customer_id, lot_id, remaining, available_from, expires_at, created_at in rows:
        opening[customer_id].append(
            OpeningLot(
                lot_id, remaining, _aware(available_from), _aware(expires_at), _aware(created_at)
            )
        )
    return dict(opening)


def _moves(merchant, start, end, part: Part) -> dict[int, list[Move]]:
    """Credits of the period that no receipt made (welcome, birthday, manual) and manual
    debits: the same in every scenario, applied when they happened."""
    kinds = ", ".join(f"'{kind}'" for kind in NON_RECEIPT_CREDITS)
    credits = _fetch(
        f"SELECT a.customer_id, l.created_at, l.amount, l.available_from, l.expires_at "
        f"FROM {Lot._meta.db_table} l JOIN {Account._meta.db_table} a ON a.id = l.account_id "
        f"WHERE l.merchant_id = %s AND l.kind IN ({kinds}) AND l.created_at >= %s "
        f"AND l.created_at < %s{part.sql('a.customer_id')}",
        [merchant.pk, start, end],
    )
    debits = _fetch(
        f"SELECT a.customer_id, MIN(e.created_at), CAST(SUM(e.amount) AS BIGINT) "
        f"FROM {Entry._meta.db_table} e JOIN {Account._meta.db_table} a ON a.id = e.account_id "
        f"WHERE e.merchant_id = %s AND e.kind = '{EntryKind.MANUAL_DEBIT}' "
        f"AND e.created_at >= %s AND e.created_at < %s{part.sql('a.customer_id')} "
        f"GROUP BY a.customer_id, e.transfer_id",
        [merchant.pk, start, end],
    )
    moves = defaultdict(list)
    for customer_id, at, amount, available_from, expires_at in credits:
        moves[customer_id].append(
            Move(_aware(at), amount, _aware(available_from), _aware(expires_at))
        )
    for customer_id, at, amount in debits:
        moves[customer_id].append(Move(_aware(at), amount))
    return {cid: sorted(found, key=lambda move: move.at) for cid, found in moves.items()}


def _purchase_totals(merchant, start, part: Part) -> dict[int, int]:
    """Purchases before the period, refunds deducted (accumulative discounts)."""
    return dict(
        _fetch(
            f"SELECT customer_id, "
            f"CAST(SUM(CASE WHEN kind = 'refund' THEN -subtotal ELSE subtotal END) AS BIGINT) "
            f"FROM {R} WHERE merchant_id = %s AND status = 'confirmed' "
            f"AND customer_id IS NOT NULL AND occurred_at < %s{part.sql('customer_id')} "
            f"GROUP BY customer_id",
            [merchant.pk, start],
        )
    )


def _activity(merchant, start, levels, part: Part, catalog: Catalog) -> dict:
    """Real purchases before the period within the levels' widest window, one event per
    receipt, as `programs.standing.activities_of` counts them."""
    windows = {level.window_days for level in levels}
    since, params = "", [merchant.pk, start]
    if 0 not in windows:
        since = " AND r.occurred_at >= %s"
        params.append(start - timedelta(days=max(windows)))
    rows = _fetch(
        f"SELECT r.customer_id, r.id, r.occurred_at, r.kind, l.product_id, "
        f"CAST(SUM(l.amount - l.discount) AS BIGINT) "
        f"FROM {RL} l JOIN {R} r ON r.id = l.receipt_id "
        f"WHERE r.merchant_id = %s AND r.status = 'confirmed' AND r.customer_id IS NOT NULL "
        f"AND r.occurred_at < %s{since}{part.sql('r.customer_id')} "
        f"GROUP BY r.customer_id, r.id, r.occurred_at, r.kind, l.product_id "
        f"ORDER BY r.occurred_at, r.id",
        params,
    )
    by_receipt: dict[int, list] = {}
    for customer_id, rid, at, kind, product_id, value in rows:
        entry = by_receipt.setdefault(rid, [customer_id, _aware(at), kind == "sale", [], []])
        sign = 1 if kind == "sale" else -1
        segments = catalog.products.get(product_id, ("", frozenset()))[1]
        entry[3].append(rules.CartLine(0, "", Fraction(1), 0, segment_ids=segments))
        entry[4].append(sign * value)
    activity = defaultdict(list)
    for customer_id, at, sale, lines, values in by_receipt.values():
        activity[customer_id].append(event_of(at, lines, values, int(sale)))
    return dict(activity)


def _groups(merchant, part: Part) -> dict[int, frozenset[int]]:
    through = Customer.groups.through
    rows = _fetch(
        f"SELECT g.customer_id, g.group_id FROM {through._meta.db_table} g "
        f"JOIN {Customer._meta.db_table} c ON c.id = g.customer_id "
        f"WHERE c.merchant_id = %s{part.sql('g.customer_id')}",
        [merchant.pk],
    )
    groups = defaultdict(set)
    for customer_id, group_id in rows:
        groups[customer_id].add(group_id)
    return {cid: frozenset(found) for cid, found in groups.items()}


def _assignments(merchant, levels, part: Part) -> dict:
    ids = [level.id for level in levels]
    rows = (
        LevelAssignment.objects.filter(level_id__in=ids, customer__merchant=merchant)
        .order_by("created_at", "id")
        .values_list("customer_id", "created_at", "until", "level_id")
    )
    found = defaultdict(list)
    for customer_id, created_at, until, level_id in rows:
        if part.count == 1 or customer_id % part.count == part.index:
            found[customer_id].append((created_at, until, level_id))
    return dict(found)


def _campaign_uses(merchant, start, campaign_ids, part: Part) -> dict[int, dict[int, int]]:
    rows = _fetch(
        f"SELECT u.customer_id, u.campaign_id, COUNT(*) FROM {CampaignUse._meta.db_table} u "
        f"LEFT JOIN {R} r ON r.id = u.receipt_id "
        f"WHERE u.campaign_id IN ({', '.join(['%s'] * len(campaign_ids))}) "
        f"AND COALESCE(r.occurred_at, u.created_at) < %s{part.sql('u.customer_id')} "
        f"GROUP BY u.customer_id, u.campaign_id",
        [*campaign_ids, start],
    )
    uses = defaultdict(dict)
    for customer_id, campaign_id, count in rows:
        uses[customer_id][campaign_id] = count
    return dict(uses)


def _refunded(merchant, start, end, stores, part: Part) -> frozenset[int]:
    """Sales of the period refunded within it: the replay keeps their figures for the refund."""
    where, params = _stores_sql(stores)
    rows = _fetch(
        f"SELECT DISTINCT refund_of_id FROM {R} WHERE merchant_id = %s AND kind = 'refund' "
        f"AND status = 'confirmed' AND occurred_at >= %s AND occurred_at < %s"
        f"{where}{part.sql('customer_id', 'refund_of_id')}",
        [merchant.pk, start, end, *params],
    )
    return frozenset(row[0] for row in rows)


@contextmanager
def read_only_snapshot():
    """A read-only REPEATABLE READ transaction (PostgreSQL): every read inside sees one
    snapshot."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
