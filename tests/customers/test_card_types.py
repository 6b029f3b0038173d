"""Card types bound to programs, and moving cards (with their customers' balances) between
them: "Silver cards" earn 5 % in one program, "Gold cards" 10 % in another."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from kopilka.customers import card_types
from kopilka.customers.exceptions import (
    CardTypeNotFound,
    CustomerNotFound,
    DuplicateCardType,
    InvalidCustomerData,
)
from kopilka.customers.models import Card
from kopilka.customers.services import card_block, card_issue, card_reissue
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.exceptions import ReasonRequired
from kopilka.ledger.models import Account, Entry, EntryKind, Lot
from kopilka.ledger.selectors import account_balance
from kopilka.ledger.verify import verify_ledger
from kopilka.merchants import services as merchants
from kopilka.merchants.models import AuditEvent
from kopilka.programs import services as programs
from kopilka.programs.exceptions import ProgramNotFound
from kopilka.programs.selectors import program_of_customer
from tests.pos.conftest import Till, line


def make_program(merchant, actor, name, percent):
    program = programs.program_create(
        merchant=merchant, name=name, actor=actor, accrual_rounding="kopeck"
    )
    programs.accrual_rule_set(program=program, steps=[(0, percent)], actor=actor)
    return program


@pytest.fixture
def silver_program(merchant, actor):
    # The oldest enabled program: also the merchant's default for customers without a type.
    return make_program(merchant, actor, "Silver", 5)


@pytest.fixture
def gold_program(merchant, actor, silver_program):
    return make_program(merchant, actor, "Gold", 10)


@pytest.fixture
def silver(merchant, actor, silver_program):
    return card_types.card_type_create(
        merchant=merchant, name="Silver cards", program=silver_program, actor=actor
    )


@pytest.fixture
def gold(merchant, actor, gold_program):
    return card_types.card_type_create(
        merchant=merchant, name="Gold cards", program=gold_program, actor=actor
    )


@pytest.fixture
def till(register, actor):
    return Till(Client(), merchants.register_key_issue(register=register, actor=actor))


@pytest.fixture
def card_holder(make_customer, actor):
    """A customer with a plastic card of the given type."""
    numbers = iter(range(1000, 10**6))

    def make(card_type, **fields):
        customer = make_customer(**fields)
        card_issue(
            customer=customer,
            kind=Card.Kind.PLASTIC,
            number=str(next(numbers)),
            actor=actor,
            card_type=card_type,
        )
        return customer

    return make


def account_of(customer, program):
    return Account.objects.filter(customer=customer, program=program).first()


def give_points(customer, program, actor, now):
    """Available points (one lot expiring, one not), a pending lot, an expired lot and a
    spend, all in the customer's account of `program`."""
    account = ledger.account_open(customer=customer, program=program, actor=actor)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=10000, actor=actor, now=now, lifetime_days=30)
        ledger.credit(account=locked, amount=2500, actor=actor, now=now)
        ledger.credit(
            account=locked, amount=700, actor=actor, now=now, freeze_days=14, lifetime_days=60
        )
        ledger.credit(
            account=locked,
            amount=300,
            actor=actor,
            now=now - timedelta(days=40),
            lifetime_days=30,
        )
        ledger.spend(account=locked, amount=1500, actor=actor, now=now)
    return account


def lot_dates(account):
    """What the customer owns in an account, lot by lot (points left and dates)."""
    return sorted(
        (lot.remaining, lot.available_from, lot.expires_at)
        for lot in Lot.objects.filter(account=account, remaining__gt=0)
    )


def quote(till, reference, total=10000):
    response = till.post(
        "/receipts/quote", {"customer": reference, "lines": [line(1, "A", total)], "spend": 0}
    )
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_card_type_decides_the_program_of_its_holders(
    card_holder, silver, gold, silver_program, gold_program, merchant, till
):
    on_silver, on_gold = card_holder(silver), card_holder(gold)
    assert program_of_customer(customer=on_silver, merchant=merchant) == silver_program
    assert program_of_customer(customer=on_gold, merchant=merchant) == gold_program
    assert quote(till, {"id": on_silver.pk})["totals"]["accrual"] == 500
    assert quote(till, {"id": on_gold.pk})["totals"]["accrual"] == 1000


def test_a_customer_moved_from_silver_to_gold_keeps_every_point_and_date(
    card_holder, silver, gold, silver_program, gold_program, merchant, actor
):
    now = timezone.now()
    customer = card_holder(silver)
    silver_account = give_points(customer, silver_program, actor, now)
    before = account_balance(silver_account, now=now)
    dates_before = lot_dates(silver_account)
    assert (before.available, before.pending, before.expired) == (11000, 700, 300)

    moved = card_types.cards_move_to_type(
        merchant=merchant, from_type=silver, to_type=gold, actor=actor, reason="upgrade", now=now
    )

    assert moved == card_types.CardsMoved(cards=1, customers=1, balances_moved=1, amount=11700)
    gold_account = account_of(customer, gold_program)
    after = account_balance(gold_account, now=now)
    assert (after.available, after.pending, after.held) == (11000, 700, 0)
    # Expired points stay where they burnt; nothing else is left behind.
    left = account_balance(silver_account, now=now)
    assert (left.available, left.pending, left.expired) == (0, 0, 300)
    assert lot_dates(gold_account) == [d for d in dates_before if d[0] != 300]
    # Pending points become available on the very same day as before.
    assert account_balance(gold_account, now=now + timedelta(days=14)).available == 11700
    assert program_of_customer(customer=customer, merchant=merchant) == gold_program
    assert verify_ledger() == []


def test_after_the_move_receipts_accrue_10_percent_in_the_gold_program(
    card_holder, silver, gold, silver_program, gold_program, merchant, actor, till
):
    customer = card_holder(silver)
    give_points(customer, silver_program, actor, timezone.now())
    number = customer.cards.get().number
    assert quote(till, {"card": number})["totals"]["accrual"] == 500

    card_types.cards_move_to_type(
        merchant=merchant, from_type=silver, to_type=gold, actor=actor, reason="upgrade"
    )

    for reference in ({"id": customer.pk}, {"card": number}, {"phone": customer.phone}):
        body = quote(till, reference)
        assert body["program_id"] == gold_program.pk
        assert body["totals"]["accrual"] == 1000
        assert body["balance"]["available"] == 11000
    response = till.confirm(
        {
            "customer": {"card": number},
            "lines": [line(1, "A", 10000)],
            "spend": 2000,
            "external_number": "G-1",
        }
    )
    assert response.status_code == 201, response.json()
    assert response.json()["totals"]["accrual"] == 800  # 10 % of the 8000 paid in money
    assert account_balance(account_of(customer, gold_program), now=timezone.now()).available == (
        11000 - 2000 + 800
    )
    assert verify_ledger() == []


def test_moving_a_selection_of_customers_moves_only_them(
    card_holder, silver, gold, silver_program, gold_program, merchant, actor
):
    now = timezone.now()
    chosen, other = card_holder(silver), card_holder(silver)
    give_points(chosen, silver_program, actor, now)
    other_account = give_points(other, silver_program, actor, now)

    moved = card_types.cards_move_to_type(
        merchant=merchant, customer_ids=[chosen.pk], to_type=gold, actor=actor, reason="vip"
    )

    assert (moved.cards, moved.customers, moved.amount) == (1, 1, 11700)
    assert chosen.cards.get().card_type == gold
    assert other.cards.get().card_type == silver
    assert account_of(other, gold_program) is None
    assert account_balance(other_account, now=now).available == 11000
    assert program_of_customer(customer=other, merchant=merchant) == silver_program
    assert verify_ledger() == []


def test_customers_without_a_typed_card_move_from_the_default_program(
    make_customer, gold, silver_program, gold_program, merchant, actor
):
    customer = make_customer(virtual_card=True)
    account = give_points(customer, silver_program, actor, timezone.now())

    moved = card_types.cards_move_to_type(
        merchant=merchant, customer_ids=[customer.pk], to_type=gold, actor=actor, reason="vip"
    )

    assert (moved.cards, moved.balances_moved, moved.amount) == (1, 1, 11700)
    assert account_balance(account, now=timezone.now()).available == 0
    assert account_balance(account_of(customer, gold_program), now=timezone.now()).available == (
        11000
    )


def test_running_the_same_move_twice_changes_nothing_the_second_time(
    card_holder, silver, gold, silver_program, merchant, actor
):
    customer = card_holder(silver)
    give_points(customer, silver_program, actor, timezone.now())
    first = card_types.cards_move_to_type(
        merchant=merchant, from_type=silver, to_type=gold, actor=actor, reason="upgrade"
    )
    lots, accounts = Lot.objects.count(), customer.accounts.count()

    again = card_types.cards_move_to_type(
        merchant=merchant, from_type=silver, to_type=gold, actor=actor, reason="upgrade"
    )
    by_customer = card_types.cards_move_to_type(
        merchant=merchant, customer_ids=[customer.pk], to_type=gold, actor=actor, reason="again"
    )

    assert first.amount == 11700
    assert again == by_customer == card_types.CardsMoved(0, 0, 0, 0)
    assert (Lot.objects.count(), customer.accounts.count()) == (lots, accounts)
    assert verify_ledger() == []


def test_moving_back_brings_the_balance_back_with_its_dates(
    card_holder, silver, gold, silver_program, merchant, actor
):
    now = timezone.now()
    customer = card_holder(silver)
    account = give_points(customer, silver_program, actor, now)
    dates = lot_dates(account)
    for source, target in ((silver, gold), (gold, silver)):
        card_types.cards_move_to_type(
            merchant=merchant, from_type=source, to_type=target, actor=actor, reason="r", now=now
        )
    assert lot_dates(account) == dates
    assert account_balance(account, now=now).available == 11000
    assert verify_ledger() == []


def test_another_merchants_types_customers_and_programs_are_refused_and_untouched(
    card_holder, silver, gold, merchant, other_merchant, make_customer, actor
):
    theirs_program = make_program(other_merchant, actor, "Theirs", 3)
    theirs = card_types.card_type_create(
        merchant=other_merchant, name="Silver cards", program=theirs_program, actor=actor
    )
    their_customer = make_customer(merchant=other_merchant)
    card_issue(
        customer=their_customer, kind=Card.Kind.PLASTIC, number="77", actor=actor, card_type=theirs
    )
    mine = card_holder(silver)

    with pytest.raises(CardTypeNotFound):
        card_types.cards_move_to_type(
            merchant=merchant, from_type=theirs, to_type=gold, actor=actor, reason="r"
        )
    with pytest.raises(CardTypeNotFound):
        card_types.cards_move_to_type(
            merchant=merchant, from_type=silver, to_type=theirs, actor=actor, reason="r"
        )
    with pytest.raises(CustomerNotFound):
        card_types.cards_move_to_type(
            merchant=merchant,
            customer_ids=[mine.pk, their_customer.pk],
            to_type=gold,
            actor=actor,
            reason="r",
        )
    with pytest.raises(ProgramNotFound):
        card_types.card_type_create(
            merchant=merchant, name="Borrowed", program=theirs_program, actor=actor
        )
    with pytest.raises(CardTypeNotFound):
        card_issue(customer=mine, kind=Card.Kind.VIRTUAL, actor=actor, card_type=theirs)
    with pytest.raises(CardTypeNotFound):
        card_types.card_type_get(merchant=merchant, pk=theirs.pk)

    # The other merchant's own move of "Silver cards" leaves this merchant's alone.
    card_types.cards_move_to_type(
        merchant=merchant, from_type=silver, to_type=gold, actor=actor, reason="r"
    )
    assert their_customer.cards.get().card_type == theirs
    assert mine.cards.get().card_type == gold


def test_a_move_is_audited_once_with_its_counts_whatever_the_batches(
    card_holder, silver, gold, silver_program, merchant, actor, monkeypatch
):
    monkeypatch.setattr(card_types, "MOVE_BATCH", 2)
    customers = [card_holder(silver) for _ in range(5)]
    for customer in customers[:3]:
        give_points(customer, silver_program, actor, timezone.now())

    moved = card_types.cards_move_to_type(
        merchant=merchant, from_type=silver, to_type=gold, actor=actor, reason="gold for all"
    )

    assert moved == card_types.CardsMoved(cards=5, customers=5, balances_moved=3, amount=35100)
    [event] = AuditEvent.objects.filter(action="card_type.move_cards")
    assert event.reason == "gold for all"
    assert event.object_id == str(gold.pk)
    assert event.data["cards"] == 5 and event.data["amount"] == 35100
    assert event.data["from_type_id"] == silver.pk
    assert all(c.cards.get().card_type == gold for c in customers)
    assert verify_ledger() == []


def test_a_move_needs_a_reason_and_says_which_cards(gold, merchant, actor):
    with pytest.raises(ReasonRequired):
        card_types.cards_move_to_type(merchant=merchant, to_type=gold, actor=actor, reason=" ")
    with pytest.raises(InvalidCustomerData):
        card_types.cards_move_to_type(merchant=merchant, to_type=gold, actor=actor, reason="r")


def test_the_scanned_card_decides_which_program_the_receipt_is_in(
    card_holder, silver, gold, gold_program, merchant, actor, till
):
    customer = card_holder(silver)
    silver_number = customer.cards.get().number
    card_issue(customer=customer, kind=Card.Kind.PLASTIC, number="555", actor=actor, card_type=gold)
    assert quote(till, {"card": silver_number})["totals"]["accrual"] == 500
    assert quote(till, {"card": "555"})["totals"]["accrual"] == 1000
    # Named otherwise, the customer is in the program of the newest typed card.
    assert quote(till, {"id": customer.pk})["program_id"] == gold_program.pk


def test_a_gold_card_given_to_a_silver_customer_takes_the_balance_along(
    card_holder, silver, gold, silver_program, gold_program, merchant, actor
):
    customer = card_holder(silver)
    silver_account = give_points(customer, silver_program, actor, timezone.now())
    card, _secret = card_issue(
        customer=customer, kind=Card.Kind.VIRTUAL, actor=actor, card_type=gold
    )
    assert card.card_type == gold
    assert account_balance(silver_account, now=timezone.now()).available == 0
    gold_account = account_of(customer, gold_program)
    assert account_balance(gold_account, now=timezone.now()).available == 11000
    # Blocking or reissuing the gold card keeps the customer in gold.
    card_block(card=card, actor=actor)
    assert program_of_customer(customer=customer, merchant=merchant) == gold_program
    new_card, _ = card_reissue(card=card, actor=actor)
    assert new_card.card_type == gold
    assert program_of_customer(customer=customer, merchant=merchant) == gold_program
    assert verify_ledger() == []


def test_card_types_have_unique_names_and_their_own_virtual_number_prefix(
    make_customer, silver_program, merchant, actor
):
    platinum = card_types.card_type_create(
        merchant=merchant,
        name="Platinum",
        program=silver_program,
        actor=actor,
        number_prefix="2977",
    )
    card, _ = card_issue(
        customer=make_customer(), kind=Card.Kind.VIRTUAL, actor=actor, card_type=platinum
    )
    assert card.number.startswith("2977") and len(card.number) == 13
    with pytest.raises(DuplicateCardType):
        card_types.card_type_create(
            merchant=merchant, name="Platinum", program=silver_program, actor=actor
        )
    for prefix in ("12", "29x", "2912345"):
        with pytest.raises(InvalidCustomerData):
            card_types.card_type_create(
                merchant=merchant,
                name="P" + prefix,
                program=silver_program,
                actor=actor,
                number_prefix=prefix,
            )


def test_entries_of_a_move_are_transfers_with_the_reason(
    card_holder, silver, gold, silver_program, merchant, actor
):
    customer = card_holder(silver)
    give_points(customer, silver_program, actor, timezone.now())
    card_types.cards_move_to_type(
        merchant=merchant, from_type=silver, to_type=gold, actor=actor, reason="upgrade"
    )
    moves = Entry.objects.filter(kind__in=[EntryKind.TRANSFER_OUT, EntryKind.TRANSFER_IN])
    assert {e.reason for e in moves} == {"upgrade"}
    assert len({e.transfer_id for e in moves}) == 1
    assert sum(e.amount for e in moves) == 0


def sale_then_move(card_holder, silver, gold, silver_program, merchant, actor, till):
    """A silver customer pays 2000 of a 10000 receipt with bonuses (accrual 5 % of 8000 =
    400), then their cards move to gold, and the balance with them."""
    customer = card_holder(silver)
    give_points(customer, silver_program, actor, timezone.now())
    response = till.confirm(
        {
            "customer": {"card": customer.cards.get().number},
            "lines": [line(1, "A", 6000), line(2, "B", 4000)],
            "spend": 2000,
            "external_number": "S-1",
        }
    )
    assert response.status_code == 201, response.json()
    assert response.json()["totals"]["accrual"] == 400
    card_types.cards_move_to_type(
        merchant=merchant, from_type=silver, to_type=gold, actor=actor, reason="upgrade"
    )
    return customer, response.json()["receipt_id"]


def test_a_refund_after_a_move_takes_and_gives_back_points_in_the_new_program(
    card_holder, silver, gold, silver_program, gold_program, merchant, actor, till
):
    customer, receipt_id = sale_then_move(
        card_holder, silver, gold, silver_program, merchant, actor, till
    )
    silver_account, gold_account = (
        account_of(customer, silver_program),
        account_of(customer, gold_program),
    )
    spent_from = Entry.objects.get(receipt_id=receipt_id, kind=EntryKind.SPEND).lot
    assert account_balance(gold_account, now=timezone.now()).available == 11000 - 2000 + 400

    response = till.post(f"/receipts/{receipt_id}/refunds", {}, idempotency_key="refund-1")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["bonus_returned"], body["accrual_clawed_back"]) == (2000, 400)
    assert body["clawback_shortfall"] == 0
    assert body["balance"]["available"] == 11000
    assert account_balance(gold_account, now=timezone.now()).available == 11000
    left = account_balance(silver_account, now=timezone.now())
    assert (left.available, left.pending) == (0, 0)
    # The 400 came off the moved copy of the sale's accrual lot, not off older points.
    accrual_lot = Entry.objects.get(receipt_id=receipt_id, kind=EntryKind.ACCRUAL).lot
    [copy] = Lot.objects.filter(moved_from=accrual_lot)
    assert Entry.objects.get(lot=copy, kind=EntryKind.REFUND_CLAWBACK).amount == -400
    # The 2000 came back with the expiry of the lot they were paid from.
    returned = Lot.objects.get(account=gold_account, moved_from=spent_from, amount=2000)
    assert (returned.remaining, returned.expires_at) == (2000, spent_from.expires_at)
    assert verify_ledger() == []


def test_a_partial_refund_after_a_move_claws_back_its_share_from_the_new_program(
    card_holder, silver, gold, silver_program, gold_program, merchant, actor, till
):
    silver_program.return_spent_on_refund = False
    silver_program.save(update_fields=["return_spent_on_refund"])
    customer, receipt_id = sale_then_move(
        card_holder, silver, gold, silver_program, merchant, actor, till
    )

    response = till.post(
        f"/receipts/{receipt_id}/refunds",
        {"lines": [{"line_no": 2, "qty": "1"}]},
        idempotency_key="refund-2",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["bonus_returned"], body["accrual_clawed_back"]) == (0, 160)
    assert account_balance(account_of(customer, gold_program), now=timezone.now()).available == (
        11000 - 2000 + 400 - 160
    )
    assert verify_ledger() == []


def test_a_refund_after_moving_away_and_back_takes_the_points_from_the_copies(
    card_holder, silver, gold, silver_program, merchant, actor, till
):
    customer, receipt_id = sale_then_move(
        card_holder, silver, gold, silver_program, merchant, actor, till
    )
    card_types.cards_move_to_type(
        merchant=merchant, from_type=gold, to_type=silver, actor=actor, reason="back"
    )

    response = till.post(f"/receipts/{receipt_id}/refunds", {}, idempotency_key="refund-3")

    assert response.status_code == 201, response.json()
    assert response.json()["accrual_clawed_back"] == 400
    assert response.json()["balance"]["available"] == 11000
    accrual_lot = Entry.objects.get(receipt_id=receipt_id, kind=EntryKind.ACCRUAL).lot
    [away] = Lot.objects.filter(moved_from=accrual_lot)
    [back] = Lot.objects.filter(moved_from=away)
    assert back.account == account_of(customer, silver_program)
    assert Entry.objects.get(lot=back, kind=EntryKind.REFUND_CLAWBACK).amount == -400
    assert verify_ledger() == []


def test_a_filtered_list_of_customers_moves_as_a_subquery_and_only_the_merchants_own(
    card_holder, silver, gold, silver_program, merchant, other_merchant, make_customer, actor
):
    from kopilka.customers.models import Customer

    now = timezone.now()
    chosen, other = card_holder(silver), card_holder(silver)
    give_points(chosen, silver_program, actor, now)
    stranger = make_customer(merchant=other_merchant)
    card_issue(customer=stranger, kind=Card.Kind.PLASTIC, number="990001", actor=actor)
    listed = Customer.objects.filter(pk__in=[chosen.pk, stranger.pk])

    moved = card_types.cards_move_to_type(
        merchant=merchant, customer_ids=listed, to_type=gold, actor=actor, reason="list"
    )

    assert (moved.cards, moved.customers, moved.amount) == (1, 1, 11700)
    assert chosen.cards.get().card_type == gold
    assert (other.cards.get().card_type, stranger.cards.get().card_type) == (silver, None)
    event = AuditEvent.objects.get(action="card_type.move_cards")
    assert event.data["customers_selected"] == 1
    assert verify_ledger() == []
