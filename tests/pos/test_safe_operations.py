"""Safe operations at the till and in the back office: limits per operation, card, register,
cashier and staff member, soft (booked, flagged) and hard (refused with `limit_exceeded`),
and the patterns of abuse a sale completes."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kopilka.ledger.models import Entry
from kopilka.ledger.verify import verify_ledger
from kopilka.limits import safe
from kopilka.limits.models import LimitAlert, LimitUsage
from kopilka.limits.services import ALERT_EVENT, LimitExceeded, safe_operations_set
from kopilka.merchants import services as merchants
from kopilka.merchants.actors import Actor
from kopilka.merchants.models import AuditAction, AuditEvent, OutboxEvent, Register, Role
from kopilka.programs import services as programs
from kopilka.sales.models import Receipt
from kopilka.sales.schemas import ConfirmIn
from kopilka.sales.services import receipt_confirm

from .conftest import Till, line


def set_limits(merchant, actor, patterns=None, **limits):
    """Only these limits ("accrual_card": (soft, hard), in kopecks); patterns off unless
    given."""
    chosen = {pair: (None, None) for pair in safe.OFFERED}
    for name, thresholds in limits.items():
        operation, scope = name.rsplit("_", 1)
        chosen[(safe.Operation(operation), safe.Scope(scope))] = thresholds
    safe_operations_set(
        merchant=merchant,
        limits=chosen,
        patterns=patterns or safe.Patterns(stores=0, anonymous=0),
        actor=actor,
    )
    merchant.refresh_from_db()


@pytest.fixture
def five_percent(bonus_program, actor):
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 5)], actor=actor)
    return bonus_program


@pytest.fixture
def customer(make_customer, five_percent, actor):
    customer = make_customer()
    programs.customer_enrol(customer=customer, program=five_percent, actor=actor)
    return customer


def sale(customer, number, price=200000, cashier=None, spend=0):
    body = {
        "customer": {"id": customer.pk} if customer is not None else None,
        "lines": [line(1, "A", price)],
        "external_number": number,
        "spend": spend,
    }
    if cashier:
        body["cashier"] = cashier
    return body


def test_a_sale_over_a_hard_day_limit_per_card_is_refused_with_the_limit_named(
    till, merchant, customer, actor
):
    set_limits(merchant, actor, accrual_card=(None, 150_00))
    assert till.confirm(sale(customer, "S-1")).status_code == 201  # 100,00 accrued
    refused = till.confirm(sale(customer, "S-2"))
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "limit_exceeded"
    assert problem["limit"] == "accrual:card"
    assert problem["threshold"] == 150_00 and problem["total"] == 200_00
    assert "150,00" in problem["detail"]
    assert not Receipt.objects.filter(external_number="S-2").exists()
    assert LimitUsage.objects.get(name="accrual:card").amount == 100_00
    [alert] = LimitAlert.objects.filter(kind=LimitAlert.Kind.REFUSED)
    assert (alert.rule, alert.customer_id, alert.total) == ("accrual:card", customer.pk, 200_00)
    assert verify_ledger() == []


def test_a_sale_over_a_soft_threshold_is_booked_flagged_and_told_to_the_outbox(
    till, merchant, customer, register, actor
):
    set_limits(merchant, actor, accrual_register=(150_00, None))
    till.confirm(sale(customer, "S-1"))
    assert not LimitAlert.objects.exists()
    assert till.confirm(sale(customer, "S-2")).status_code == 201
    till.confirm(sale(customer, "S-3"))  # still over: the day was flagged already
    [alert] = LimitAlert.objects.all()
    second = Receipt.objects.get(external_number="S-2")
    assert (alert.kind, alert.rule, alert.receipt_id) == ("soft", "accrual:register", second.pk)
    assert (alert.register_id, alert.total, alert.threshold) == (register.pk, 200_00, 150_00)
    [event] = OutboxEvent.objects.filter(kind=ALERT_EVENT)
    assert event.payload["receipt_id"] == second.pk


def test_a_cashiers_day_counts_across_registers(
    till, store, merchant, customer, make_customer, actor
):
    set_limits(merchant, actor, accrual_cashier=(None, 250_00))
    other = merchants.register_create(store=store, name="Касса 2", actor=actor)
    other_till = Till(till.client, merchants.register_key_issue(register=other, actor=actor))
    second = make_customer()
    assert till.confirm(sale(customer, "S-1", cashier="Анна")).status_code == 201
    assert other_till.confirm(sale(second, "S-2", cashier="Анна")).status_code == 201
    assert other_till.confirm(sale(second, "S-3", cashier="Борис")).status_code == 201
    refused = till.confirm(sale(customer, "S-4", cashier="Анна"))
    assert refused.status_code == 409 and refused.json()["subject"] == "Анна"
    assert Receipt.objects.get(external_number="S-1").cashier == "Анна"


def test_paying_with_bonuses_has_its_own_limit(till, merchant, customer, actor):
    set_limits(merchant, actor, payment_operation=(None, 50_00))
    till.confirm(sale(customer, "S-1"))  # 100,00 to spend
    refused = till.confirm(sale(customer, "S-2", spend=60_00))
    assert refused.status_code == 409 and refused.json()["limit"] == "payment:operation"
    assert till.confirm(sale(customer, "S-3", spend=50_00)).status_code == 201


def test_a_day_limit_starts_again_the_next_day_in_the_merchants_time_zone(
    register, merchant, customer, actor
):
    set_limits(merchant, actor, accrual_card=(None, 150_00))
    merchant.time_zone = "Asia/Vladivostok"  # UTC+10
    merchant.save()
    register = Register.objects.select_related("merchant", "store").get(pk=register.pk)
    tomorrow = (timezone.now() + timedelta(days=1)).date()  # after the program began
    evening = datetime.combine(tomorrow, time(13), tzinfo=UTC)  # 23:00 there

    def book(number, now):
        data = ConfirmIn(**sale(customer, number), occurred_at=now)
        return receipt_confirm(register=register, key=number, data=data, now=now)

    book("S-1", evening)
    with pytest.raises(LimitExceeded):
        book("S-2", evening + timedelta(minutes=59))  # 23:59 there
    book("S-3", evening + timedelta(hours=1))  # midnight there: a new day
    days = LimitUsage.objects.order_by("day").values_list("day", "amount")
    assert list(days) == [(tomorrow, 100_00), (tomorrow + timedelta(days=1), 100_00)]


def test_a_card_at_three_stores_within_minutes_is_flagged_once_an_hour(merchant, customer, actor):
    set_limits(merchant, actor, patterns=safe.Patterns(stores=3, stores_minutes=30, anonymous=0))
    tills = []
    for name in ("Север", "Юг", "Центр"):
        shop = merchants.store_create(merchant=merchant, name=name, actor=actor)
        register = merchants.register_create(store=shop, name="Касса", actor=actor)
        tills.append(Till(Client(), merchants.register_key_issue(register=register, actor=actor)))
    tills[0].confirm(sale(customer, "N-1"))
    tills[1].confirm(sale(customer, "S-1"))
    assert not LimitAlert.objects.exists()
    tills[2].confirm(sale(customer, "C-1"))
    tills[2].confirm(sale(customer, "C-2"))
    [alert] = LimitAlert.objects.all()
    assert (alert.kind, alert.rule, alert.customer_id) == ("pattern", "many_stores", customer.pk)
    assert alert.receipt.external_number == "C-1"


def test_anonymous_receipts_then_one_card_again_and_again_at_one_till_is_flagged(
    till, merchant, customer, actor
):
    set_limits(merchant, actor, patterns=safe.Patterns(stores=0, anonymous=3))
    for n in range(3):
        till.confirm(sale(None, f"A-{n}"))
    till.confirm(sale(customer, "K-1"))
    assert not LimitAlert.objects.exists()  # one card after anonymous buyers is normal
    till.confirm(sale(customer, "K-2"))
    [alert] = LimitAlert.objects.all()
    assert (alert.rule, alert.customer_id) == ("card_after_anonymous", customer.pk)


def test_manual_credits_are_bounded_per_staff_member_a_day_and_a_refusal_is_kept(
    merchant, customer, django_user_model
):
    user = django_user_model.objects.create_user("marina")
    marina = Actor.user(user)
    set_limits(merchant, marina, manual_credit_staff=(None, 3_000_00))
    adjust = lambda amount: programs.balance_adjust(  # noqa: E731
        amount=amount, reason="жалоба", role=Role.OWNER, actor=marina, customer=customer
    )
    adjust(1_000_00)
    adjust(2_000_00)
    with pytest.raises(LimitExceeded) as refused:
        adjust(1_00)
    assert refused.value.details["limit"] == "manual_credit:staff"
    assert "3\u00a0000,00" in str(refused.value.message)
    manual = Entry.objects.filter(kind="manual_credit", account__customer=customer)
    assert sum(manual.values_list("amount", flat=True)) == 3_000_00
    [alert] = LimitAlert.objects.filter(kind="refused")
    assert (alert.staff_id, alert.customer_id, alert.amount) == (user.pk, customer.pk, 1_00)
    adjust(-500_00)  # a debit is another operation


def test_five_small_credits_cannot_add_up_past_a_cards_day_limit(merchant, customer, actor):
    set_limits(merchant, actor, manual_credit_card=(None, 4_000_00))
    for _ in range(4):
        programs.balance_adjust(
            amount=1_000_00, reason="акция", role=Role.MARKETER, actor=actor, customer=customer
        )
    with pytest.raises(LimitExceeded):
        programs.balance_adjust(
            amount=1_000_00, reason="акция", role=Role.MARKETER, actor=actor, customer=customer
        )


def test_changing_the_limits_is_audited(merchant, actor):
    set_limits(merchant, actor, accrual_card=(100_00, 200_00))
    event = AuditEvent.objects.get(action=AuditAction.SAFE_OPERATIONS_SET)
    assert event.data["after"]["accrual:card"] == {"soft": 100_00, "hard": 200_00}


def test_thresholds_that_make_no_sense_are_not_saved(merchant, actor):
    with pytest.raises(ValueError):
        set_limits(merchant, actor, accrual_card=(200_00, 100_00))
    merchant.refresh_from_db()
    assert merchant.safe_operations == {}


def test_the_tick_removes_day_counters_no_limit_reads_any_more(merchant, customer, actor):
    from kopilka.tick import run

    today = timezone.now().date()
    for age in (0, 1, 2, 3):
        LimitUsage.objects.create(
            merchant=merchant,
            name="accrual:card",
            subject="1",
            day=today - timedelta(days=age),
            amount=1,
        )
    done = run(now=timezone.now(), say=lambda line: None)
    assert done["limit_counters"] == 1
    kept = sorted(LimitUsage.objects.values_list("day", flat=True))
    assert kept == [today - timedelta(days=age) for age in (2, 1, 0)]
