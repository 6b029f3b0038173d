"""A month in a shop, built only through the public services and the POS API, and then every
figure that staff or customers see is the same number on every face that shows it: the
ledger itself, the API, the customer card, the customer list and its export, the dashboard,
the bonuses and customers reports and their exports, and the simulator's current-program
column. Once before `kopilka tick` has run and once after: no figure waits for the job.

The story (T0 = 36 days ago; the program: 5 % back, half a receipt payable by bonuses, 20 days
to burn from accrual, a 50,00 welcome bonus that burns in 10 days, a Silver level from
1 000,00 spent within 30 days with 10 % back, a 30,00 birthday bonus):

  T0        Анна, Борис and Вера register and get the welcome bonus
  T0+1d     Анна buys for 1 200,00: Silver with this purchase
  T0+2d     Борис pays 50,00 of 300,00 with his welcome bonus
  T0+3d     Анна pays as much as she may of 500,00; T0+4d she brings back one of its two lines
  T0+5d     Борис's birthday bonus (the tick that day); Вера's 200,00 with a hold, captured;
            Борис starts a held sale and voids it
  T0+8d     Вера's till sends yesterday's 400,00 receipt offline
  T0+9d     Анна is credited 100,00 by hand; T0+10d Борис is debited 20,00 by hand
  T0+12d    Борис brings his whole T0+2d receipt back
  T0+14d    Вера's card moves to another card type of the same program
  T0+15d    the welcome bonus is raised to 80,00; Григорий registers and gets it (no purchase)
  today     the welcome bonuses and the first accruals have burnt; Анна's Silver has lapsed
"""

import csv
import io
import uuid
from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone, translation

from kopilka import tick
from kopilka.backoffice.dashboard import dashboard_figures
from kopilka.backoffice.formatting import money
from kopilka.catalog import services as catalog
from kopilka.customers import card_types
from kopilka.customers.services import customer_register
from kopilka.ledger.models import Account, Entry, EntryKind, Lot
from kopilka.ledger.selectors import account_balance
from kopilka.ledger.verify import verify_ledger
from kopilka.merchants import services as merchants
from kopilka.merchants.models import Role
from kopilka.pos.schemas import ConfirmIn, QuoteIn, RefundIn
from kopilka.programs import services as programs
from kopilka.programs.services import balance_adjust
from kopilka.programs.standing import customer_standing
from kopilka.reports import selectors as reports
from kopilka.reports import simulator
from kopilka.sales import services as pos
from tests.backoffice.admin_client import staff_user
from tests.conftest import SYSTEM
from tests.pos.conftest import Till

DAY = timedelta(days=1)
COFFEE, TEA = "COFFEE", "TEA"

# How the ledger's entry kinds make up the figures (docs/figures.md), written out here
# independently of reports.figures: the test reads the ledger's rows itself.
GROUPS = {
    "accrued": {EntryKind.ACCRUAL, EntryKind.CAMPAIGN},
    "gifts": {EntryKind.WELCOME, EntryKind.BIRTHDAY},
    "spent": {EntryKind.SPEND, EntryKind.CAPTURE},
    "returned": {EntryKind.REFUND_RETURN},
    "clawed_back": {EntryKind.REFUND_CLAWBACK},
    "manual": {EntryKind.MANUAL_CREDIT, EntryKind.MANUAL_DEBIT},
    "expired": {EntryKind.EXPIRY},
}


def local_day(merchant, moment):
    return moment.astimezone(ZoneInfo(merchant.time_zone)).date()


class Shop:
    """The month, booked through the services at moments in the past."""

    def __init__(self, merchant, store, register, actor):
        self.merchant, self.register, self.actor = merchant, register, actor
        self.now = timezone.now()
        self.t0 = self.now - 36 * DAY
        t0 = self.t0
        self.program = programs.program_create(
            merchant=merchant,
            name="Бонусы",
            actor=actor,
            accrual_rounding="kopeck",
            max_share_percent=50,
            lifetime_days=20,
            welcome_bonus=50_00,
            welcome_lifetime_days=10,
        )
        programs.accrual_rule_set(program=self.program, steps=[(0, 5)], actor=actor)
        programs.level_create(program=self.program, name="Базовый", priority=1, actor=actor)
        programs.level_create(
            program=self.program,
            name="Серебро",
            priority=2,
            min_spend=1_000_00,
            window_days=30,
            cashback_percent=10,
            actor=actor,
        )
        programs.campaign_create(
            merchant=merchant,
            program=self.program,
            name="С днём рождения",
            kind="birthday",
            bonus=30_00,
            actor=actor,
        )
        for sku in (COFFEE, TEA):
            catalog.product_create(merchant=merchant, sku=sku, name=sku, actor=actor)
        self.card_type = card_types.card_type_create(
            merchant=merchant, name="Обычная", program=self.program, actor=actor
        )
        self.anna = self.register_customer("Анна", "+79160000001", t0)
        self.boris = self.register_customer(
            "Борис",
            "+79160000002",
            t0,
            birthday=local_day(merchant, t0 + 5 * DAY).replace(year=1990),
        )
        self.vera = self.register_customer("Вера", "+79160000003", t0, card="2900000000017")

        self.sale(self.anna, t0 + DAY, [(COFFEE, 600_00, "2")])
        boris_sale = self.sale(self.boris, t0 + 2 * DAY, [(TEA, 300_00, "1")], spend=50_00)
        anna_sale = self.sale(
            self.anna, t0 + 3 * DAY, [(COFFEE, 300_00, "1"), (TEA, 200_00, "1")], spend="max"
        )
        self.refund(anna_sale, t0 + 4 * DAY, lines=[{"line_no": 2, "qty": "1"}])
        tick.run(now=t0 + 5 * DAY, say=lambda line: None)  # Борис's birthday bonus
        held = self.sale(self.vera, t0 + 5 * DAY, [(TEA, 200_00, "1")], spend="max", hold=True)
        pos.receipt_capture(
            register=register,
            receipt_id=held["receipt_id"],
            now=t0 + 5 * DAY + timedelta(minutes=5),
        )
        voided = self.sale(self.boris, t0 + 5 * DAY, [(TEA, 100_00, "1")], spend=10_00, hold=True)
        pos.receipt_void(register=register, receipt_id=voided["receipt_id"], now=t0 + 5 * DAY)
        self.sale(self.vera, t0 + 8 * DAY, [(COFFEE, 400_00, "1")], occurred_at=t0 + 7 * DAY)
        balance_adjust(
            customer=self.anna,
            amount=100_00,
            reason="Извинение за очередь",
            role=Role.OWNER,
            actor=actor,
            now=t0 + 9 * DAY,
        )
        balance_adjust(
            customer=self.boris,
            amount=-20_00,
            reason="Ошибка кассира",
            role=Role.OWNER,
            actor=actor,
            now=t0 + 10 * DAY,
        )
        self.refund(boris_sale, t0 + 12 * DAY)
        other_type = card_types.card_type_create(
            merchant=merchant, name="Золотая", program=self.program, actor=actor
        )
        card_types.cards_move_to_type(
            merchant=merchant,
            to_type=other_type,
            customer_ids=[self.vera.pk],
            actor=actor,
            reason="Перевыпуск",
            now=t0 + 14 * DAY,
        )
        # The owner changes the program: new members now get 80,00 welcome. What was booked
        # stays as it was; every face shows the lots as they are, not today's settings.
        self.program = programs.program_update(
            program=self.program, actor=actor, welcome_bonus=80_00
        )
        self.grisha = self.register_customer("Григорий", "+79160000004", t0 + 15 * DAY)
        self.customers = [self.anna, self.boris, self.vera, self.grisha]

    def register_customer(self, name, phone, at, birthday=None, card=None):
        customer = customer_register(
            merchant=self.merchant,
            actor=self.actor,
            first_name=name,
            phone=phone,
            birthday=birthday,
            card_number=card,
            registered_at=at,
        )
        programs.customer_enrol(customer=customer, program=self.program, actor=self.actor, now=at)
        return customer

    def sale(self, customer, at, lines, spend=0, hold=False, occurred_at=None):
        return pos.receipt_confirm(
            register=self.register,
            key=str(uuid.uuid4()),
            data=ConfirmIn(
                customer={"id": customer.pk},
                lines=[
                    {"line_no": n, "sku": sku, "unit_price": price, "qty": qty}
                    for n, (sku, price, qty) in enumerate(lines, start=1)
                ],
                spend=spend,
                hold=hold,
                occurred_at=occurred_at,
                external_number=f"S-{uuid.uuid4().hex[:8]}",
            ),
            now=at,
        )

    def refund(self, sale, at, lines=None):
        return pos.receipt_refund(
            register=self.register,
            receipt_id=sale["receipt_id"],
            key=str(uuid.uuid4()),
            data=RefundIn(lines=lines),
            now=at,
        )


@pytest.fixture
def shop(merchant, store, register, actor):
    return Shop(merchant, store, register, actor)


def ledger_figures(shop, start, now) -> dict:
    """The figures read straight from the ledger's rows: entries by kind since `start`, and
    lots whose expiry has passed with points no job has written off yet."""
    entries = Entry.objects.filter(merchant=shop.merchant, created_at__gte=start)
    sums = {name: 0 for name in GROUPS}
    for entry in entries:
        for name, kinds in GROUPS.items():
            if entry.kind in kinds:
                sums[name] += entry.amount
    due = sum(
        lot.remaining
        for lot in Lot.objects.filter(merchant=shop.merchant, remaining__gt=0, expires_at__lte=now)
    )
    everything = sum(e.amount for e in Entry.objects.filter(merchant=shop.merchant))
    return {
        "accrued": sums["accrued"],
        "gifts": sums["gifts"],
        "spent": -sums["spent"],
        "returned": sums["returned"],
        "clawed_back": -sums["clawed_back"],
        "manual": sums["manual"],
        "expired": -sums["expired"] + due,
        "outstanding": everything - due,
    }


def api_balances(shop, customer) -> dict:
    till = Till(Client(), merchants.register_key_issue(register=shop.register, actor=SYSTEM))
    found = till.post("/customers/identify", {"phone": customer.phone})
    assert found.status_code == 200, found.content
    [balance] = found.json()["balances"]
    return {key: balance[key] for key in ("available", "pending", "held")}


def card_page(client, customer) -> str:
    page = client.get(f"/admin/customers/customer/{customer.pk}/card/")
    assert page.status_code == 200
    return page.content.decode()


def list_rows(client) -> dict[str, list[str]]:
    """The customer list's export as CSV: name -> row."""
    response = client.get("/admin/customers/customer/export/csv/")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return {row[1]: row for row in rows[1:]}


def every_face_agrees(shop, merchant, owner):
    now = timezone.now()
    ledger = ledger_figures(shop, shop.t0 - DAY, now)

    # The dashboard over 90 days and the bonuses report over the same days.
    dashboard = dashboard_figures(merchant=merchant, days=90, now=now)
    start_day = dashboard.start.date()
    report = reports.bonus_flow(
        merchant=merchant, start=start_day, end=local_day(merchant, now), now=now
    )
    for name in ("accrued", "gifts", "spent", "expired"):
        assert getattr(dashboard, name) == report.totals.get(name, 0) == ledger[name], name
    for name in ("returned", "clawed_back", "manual"):
        assert report.totals.get(name, 0) == ledger[name], name
    assert dashboard.outstanding == report.outstanding == ledger["outstanding"]

    # The simulator's current-program column replays the same receipts into the same money.
    [current] = simulator.simulate(
        merchant=merchant,
        start=dashboard.start,
        end=now,
        scenarios=[simulator.current_scenario(shop.program)],
    ).results
    assert current.accrued + current.campaign_bonus == ledger["accrued"]
    assert current.spent == ledger["spent"]
    assert current.returned == ledger["returned"]
    assert current.clawed_back == ledger["clawed_back"]
    assert current.expired == ledger["expired"]
    assert current.outstanding == ledger["outstanding"]

    # Customers: the ledger's balance = the API = the card = the list; the liability is the
    # sum of what the customers hold.
    rows = list_rows(owner)
    held_by_customers = 0
    for customer in shop.customers:
        account = Account.objects.get(customer=customer)
        balance = account_balance(account, now=now)
        figures = {"available": balance.available, "pending": balance.pending, "held": balance.held}
        assert api_balances(shop, customer) == figures, customer.first_name
        page = card_page(owner, customer)
        with translation.override("ru"):
            assert f'data-balance="available">{money(balance.available)}<' in page
            assert f'data-balance="held">{money(balance.held)}<' in page
            # Burnt but not yet written off: said on the card until the tick books it.
            burnt = f"{money(balance.expired)} сгорели"
            assert (burnt in page) == (balance.expired > 0), (customer.first_name, burnt)
            assert f'data-figure="spent">{money(customer_spent(customer))}<' in page
        points = balance.available + balance.pending + balance.held
        assert float(rows[customer.first_name][8]) * 100 == points, customer.first_name
        assert float(rows[customer.first_name][9]) * 100 == customer_spent(customer)
        held_by_customers += points
        level = customer_standing(customer=customer, program=shop.program, now=now).level
        assert rows[customer.first_name][-1] == level.name
        assert f"<strong>{level.name}</strong>" in page
        quote = pos.receipt_quote(
            register=shop.register,
            data=QuoteIn(
                customer={"id": customer.pk},
                lines=[{"line_no": 1, "sku": TEA, "unit_price": 1_00, "qty": "1"}],
            ),
            now=now,
        )
        assert quote["level"]["before"]["name"] == level.name
    assert held_by_customers == ledger["outstanding"]
    # Анна's Серебро lapsed: her 1 700,00 were bought more than 30 days ago.
    anna = customer_standing(customer=shop.anna, program=shop.program, now=now)
    assert anna.level.name == "Базовый"

    # Customers report: Анна, Борис and Вера each made a first purchase in the period.
    mix = reports.customer_mix(
        merchant=merchant, start=start_day, end=local_day(merchant, now), now=now
    )
    assert sum(row.new_customers for row in mix) == dashboard.customers_new == 3
    assert dashboard.customers_registered == 4  # Григорий too, who has bought nothing yet
    return ledger


def customer_spent(customer) -> int:
    """Purchases after discounts less what was brought back, from the receipts themselves."""
    total = 0
    for receipt in customer.receipts.filter(status="confirmed"):
        sign = 1 if receipt.kind == "sale" else -1
        total += sign * (receipt.subtotal - receipt.discount)
    return total


@pytest.mark.django_db
def test_a_month_in_a_shop_shows_one_truth_on_every_face_before_and_after_the_tick(shop, merchant):
    owner = Client()
    owner.force_login(staff_user(merchant, Role.OWNER))
    before = every_face_agrees(shop, merchant, owner)
    # Worked by hand. Accrual, at the level held before each purchase:
    #   Анна T0+1d: 1 200,00 at 5 % (Базовый)                              60,00
    #   Борис T0+2d: 300,00 - 50,00 paid with bonuses = 250,00 at 5 %      12,50
    #   Анна T0+3d: 500,00, pays 110,00 (all she has; the cap is 250,00),
    #     390,00 at 10 % (Серебро since her 1 200,00)                      39,00
    #   Вера T0+5d: 200,00 - 50,00 = 150,00 at 5 %                          7,50
    #   Вера T0+7d, offline: 400,00 at 5 % (no payment by bonuses)        20,00
    assert before["accrued"] == 60_00 + 12_50 + 39_00 + 7_50 + 20_00
    # Welcome bonuses (Григорий's after the change), Борис's birthday.
    assert before["gifts"] == 3 * 50_00 + 80_00 + 30_00
    assert before["spent"] == 50_00 + 110_00 + 50_00  # the voided hold took nothing
    # Анна's tea (200 of 500) carried 44,00 of her 110,00 and 15,60 of her accrual (10 % of
    # its 156,00 paid in money); Борис's whole receipt: 50,00 and 12,50.
    assert before["returned"] == 44_00 + 50_00
    assert before["clawed_back"] == 15_60 + 12_50
    assert before["manual"] == 100_00 - 20_00
    # Every lot lives 10 or 20 days and the last was credited on T0+15d (Григорий's 80,00):
    # all has burnt, most of it with no job to write it off yet.
    assert before["outstanding"] == 0
    assert before["expired"] == 180_00 + 139_00 + 94_00 + 80_00 - 210_00 - 28_10 + 80_00

    tick.run(now=timezone.now(), say=lambda line: None)
    after = every_face_agrees(shop, merchant, owner)
    assert after == before
    # The levels report counts the levels the tick recorded: the ones every face shows now.
    now = timezone.now()
    summary = reports.levels_summary(program=shop.program, start=shop.t0, end=now)
    base = shop.program.levels.get(name="Базовый")
    assert summary.customers_by_level == {base.pk: 4}
    assert verify_ledger() == []


@pytest.mark.django_db
@pytest.mark.parametrize("longer_history", [False, True], ids=["demo", "demo --receipts"])
def test_the_demo_tells_one_truth_too(longer_history):
    """`kopilka demo` (and its `--receipts N`) books its history through the same services:
    its dashboard, reports, simulator and customers agree the same way (both end with a
    tick)."""
    from kopilka.demo import demo_build
    from kopilka.ledger.selectors import points_of_customers

    info = demo_build(customers_count=40, months=3, receipts=300 if longer_history else 0, days=200)
    merchant, now = info.merchant, timezone.now()
    program = merchant.programs.get()
    ledger = ledger_figures(SimpleNamespace(merchant=merchant), now - 365 * DAY, now)
    dashboard = dashboard_figures(merchant=merchant, days=90, now=now)
    report = reports.bonus_flow(
        merchant=merchant, start=dashboard.start.date(), end=local_day(merchant, now), now=now
    )
    [current] = simulator.simulate(
        merchant=merchant,
        start=dashboard.start,
        end=now,
        scenarios=[simulator.current_scenario(program)],
    ).results
    assert dashboard.outstanding == report.outstanding == current.outstanding
    assert dashboard.outstanding == ledger["outstanding"]
    customers = merchant.customers.values_list("pk", flat=True)
    assert sum(points_of_customers(customers, now=now).values()) == ledger["outstanding"]
    for name in ("accrued", "spent", "expired"):
        assert getattr(dashboard, name) == report.totals.get(name, 0), name
    assert current.accrued + current.campaign_bonus == dashboard.accrued
    assert current.spent == dashboard.spent
    assert current.expired == dashboard.expired
    assert dashboard.customers_new == sum(
        row.new_customers
        for row in reports.customer_mix(
            merchant=merchant, start=dashboard.start.date(), end=local_day(merchant, now), now=now
        )
    )
    # Registered before they first bought: nobody's first purchase precedes their joining.
    for customer in merchant.customers.all():
        first = customer.receipts.order_by("occurred_at").first()
        assert first is None or first.occurred_at >= customer.created_at
