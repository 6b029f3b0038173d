"""The receipts endpoints: confirm, holds, offline and anonymous receipts, refunds, errors."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from kopilka.customers.models import Customer
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Account, Entry
from kopilka.ledger.selectors import account_balance
from kopilka.ledger.verify import verify_ledger
from kopilka.programs import services as programs
from kopilka.sales.models import IdempotencyRecord, Receipt

from .conftest import line


@pytest.fixture
def customer(make_customer, bonus_program, actor):
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 10)], actor=actor)
    customer = make_customer()
    account = programs.customer_enrol(customer=customer, program=bonus_program, actor=actor)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=20000, actor=actor)
    return customer


def sale(customer, number="S-1", spend=0, lines=None, **extra):
    return {
        "customer": {"id": customer.pk} if customer else None,
        "lines": lines or [line(1, "A", 10000, qty="2"), line(2, "B", 5000)],
        "spend": spend,
        "external_number": number,
        **extra,
    }


# ---- idempotency --------------------------------------------------------------------------


def test_a_retry_with_the_same_key_and_body_gets_the_first_response(till, customer):
    first = till.post("/receipts", sale(customer, spend=1000), idempotency_key="k-1")
    again = till.post("/receipts", sale(customer, spend=1000), idempotency_key="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert Receipt.objects.count() == 1
    assert Entry.objects.filter(kind="spend").count() == 1


def test_the_same_key_with_another_body_is_a_conflict(till, customer):
    till.post("/receipts", sale(customer), idempotency_key="k-2")
    other = till.post("/receipts", sale(customer, spend=500), idempotency_key="k-2")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"
    assert other["Content-Type"] == "application/problem+json"


def test_confirm_needs_an_idempotency_key(till, customer):
    response = till.post("/receipts", sale(customer))
    assert response.status_code == 428
    assert response.json()["code"] == "idempotency_key_required"


def test_a_receipt_number_is_booked_once_per_register(till, customer):
    assert till.confirm(sale(customer, "N-1")).status_code == 201
    again = till.confirm(sale(customer, "N-1"))
    assert (again.status_code, again.json()["code"]) == (409, "duplicate_receipt_number")


def test_a_failed_confirm_leaves_nothing_behind(till, customer):
    response = till.confirm(sale(customer, spend=10**6))
    assert response.json()["code"] == "insufficient_balance"
    assert not Receipt.objects.exists() and not IdempotencyRecord.objects.exists()


# ---- quote and confirm --------------------------------------------------------------------


def test_every_line_is_stored_as_the_till_sent_it_and_as_the_engine_priced_it(till, customer):
    from decimal import Decimal

    from kopilka.sales.models import ReceiptLine

    lines = [
        line(1, "A", 10000, qty="0.001", name='Кофе "Арабика" \\ 250 г'),
        line(2, "B/ё", 5000, qty="12345.678", name="🍎 яблоки, кг"),
        line(7, "C", 1, name="it's"),
    ]
    response = till.post("/receipts", sale(customer, spend=500, lines=lines), idempotency_key="k-l")
    assert response.status_code == 201, response.json()
    body = response.json()
    stored = ReceiptLine.objects.filter(receipt_id=body["receipt_id"]).order_by("line_no")
    assert [(s.line_no, s.sku, s.name, s.qty, s.unit_price) for s in stored] == [
        (1, "A", 'Кофе "Арабика" \\ 250 г', Decimal("0.001"), 10000),
        (2, "B/ё", "🍎 яблоки, кг", Decimal("12345.678"), 5000),
        (7, "C", "it's", Decimal("1.000"), 1),
    ]
    priced = {out["line_no"]: out for out in body["lines"]}
    for s in stored:
        out = priced[s.line_no]
        assert (s.amount, s.bonus_spent, s.accrued) == (
            out["amount"],
            out["bonus_spent"],
            out["accrual"],
        )
        assert s.reasons == out["reasons"] and s.product_id is not None
    assert sum(s.bonus_spent for s in stored) == 500


def test_a_quote_writes_nothing_not_even_unknown_products(till, customer):
    from kopilka.catalog.models import Product

    before = (Receipt.objects.count(), Entry.objects.count(), Product.objects.count())
    body = sale(customer, spend="max")
    del body["external_number"]
    response = till.post("/receipts/quote", body)
    assert response.status_code == 200, response.json()
    assert response.json()["totals"]["max_spend"] == 20000
    assert (Receipt.objects.count(), Entry.objects.count(), Product.objects.count()) == before


def test_unknown_skus_are_created_at_confirm(till, customer):
    from kopilka.catalog.models import Product

    till.confirm(sale(customer, lines=[line(1, "NEW-1", 100, name="Новинка")]))
    assert Product.objects.get(sku="NEW-1").name == "Новинка"


def test_payments_must_add_up_to_the_money_part(till, customer):
    response = till.confirm(sale(customer, payments=[{"method": "cash", "amount": 1}]))
    assert (response.status_code, response.json()["code"]) == (422, "payments_mismatch")


def test_an_anonymous_receipt_is_stored_for_reports(till, bonus_program):
    response = till.confirm(sale(None, "ANON-1"))
    assert response.status_code == 201, response.json()
    receipt = Receipt.objects.get(pk=response.json()["receipt_id"])
    assert (receipt.customer_id, receipt.subtotal, receipt.accrued) == (None, 25000, 0)


def test_an_online_order_enrols_an_unknown_buyer_when_the_program_says_so(
    till, bonus_program, actor
):
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 10)], actor=actor)
    body = {**sale(None, "WEB-1"), "customer": {"phone": "8 (916) 555-44-33"}, "channel": "online"}
    response = till.confirm(body)
    assert response.status_code == 201, response.json()
    customer = Customer.objects.get(phone="+79165554433")
    assert response.json()["customer_id"] == customer.pk
    assert response.json()["balance"]["pending"] + response.json()["balance"]["available"] > 0


def test_an_unknown_buyer_at_the_till_is_not_found(till, bonus_program):
    body = {**sale(None), "customer": {"phone": "+79165554433"}}
    response = till.confirm(body)
    assert (response.status_code, response.json()["code"]) == (404, "customer_not_found")


@pytest.mark.django_db
@given(
    prices=st.lists(st.integers(1, 200000), min_size=1, max_size=6),
    spend=st.one_of(st.just("max"), st.integers(0, 30000)),
)
@settings(max_examples=15, deadline=None)
def test_quote_and_confirm_agree(prices, spend):
    """Each example builds its own merchant and rolls it back afterwards."""
    from django.test import Client

    from kopilka.merchants import services as merchants
    from kopilka.merchants.actors import Actor

    from .conftest import Till

    actor = Actor.system("test")
    with transaction.atomic():
        merchant = merchants.merchant_create(name="Q", actor=actor)
        store = merchants.store_create(merchant=merchant, name="S", actor=actor)
        register = merchants.register_create(store=store, name="R", actor=actor)
        till = Till(Client(), merchants.register_key_issue(register=register, actor=actor))
        program = programs.program_create(
            merchant=merchant, name="P", actor=actor, max_share_percent=30
        )
        programs.accrual_rule_set(program=program, steps=[(0, 3), (50000, 7)], actor=actor)
        from kopilka.customers.services import customer_register

        who = customer_register(merchant=merchant, actor=actor, phone="+79160000000")
        account = programs.customer_enrol(customer=who, program=program, actor=actor)
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=25000, actor=actor)
        body = {
            "customer": {"id": who.pk},
            "lines": [line(i + 1, f"P{i}", p) for i, p in enumerate(prices)],
            "spend": spend,
        }
        quoted = till.post("/receipts/quote", body)
        confirmed = till.confirm({**body, "external_number": "Q-1"})
        if quoted.json()["totals"]["bonus_spent"] < (spend if spend != "max" else 0):
            assert confirmed.status_code == 409
        else:
            assert confirmed.status_code == 201, confirmed.json()
            # Everything agrees but the moment, which moved on between the two calls.
            q, c = quoted.json(), confirmed.json()
            for moment in ("accrual_available_from", "accrual_expires_at"):
                assert (q["totals"].pop(moment) is None) == (c["totals"].pop(moment) is None)
            assert (c["totals"], c["lines"]) == (q["totals"], q["lines"])
        transaction.set_rollback(True)


def test_a_receipt_of_many_lines_stores_every_line(till, customer):
    lines = [line(n, f"SKU-{n % 7}", 100 + n) for n in range(1, 301)]
    response = till.confirm(sale(customer, "BIG-1", lines=lines))
    assert response.status_code == 201, response.json()
    receipt = Receipt.objects.get(pk=response.json()["receipt_id"])
    stored = list(receipt.lines.order_by("line_no").values_list("line_no", "sku", "unit_price"))
    assert stored == [(n, f"SKU-{n % 7}", 100 + n) for n in range(1, 301)]
    assert receipt.subtotal == sum(100 + n for n in range(1, 301))


def test_a_held_sale_answers_the_balance_the_account_has_right_after_it(till, customer):
    body = till.confirm(sale(customer, "BH-1", spend=3000, hold=True)).json()
    account = Account.objects.get(customer=customer)
    after = account_balance(account, now=timezone.now())
    assert (body["balance"]["available"], body["balance"]["held"]) == (after.available, 3000)
    assert after.held == 3000 and body["balance"]["pending"] == after.pending


@pytest.mark.parametrize("freeze_days", [0, 3])
def test_a_sale_answers_the_balance_the_account_has_right_after_it(
    till, customer, bonus_program, actor, freeze_days
):
    programs.program_update(
        program=bonus_program, actor=actor, freeze_days=freeze_days, lifetime_days=30
    )
    body = till.confirm(sale(customer, "B-1", spend=3000)).json()
    account = Account.objects.get(customer=customer, program=bonus_program)
    after = account_balance(account, now=timezone.now())
    assert body["balance"] == {
        "program_id": bonus_program.pk,
        "program": bonus_program.name,
        "available": after.available,
        "pending": after.pending,
        "held": after.held,
    }
    accrual = body["totals"]["accrual"]
    assert (after.available, after.pending) == (
        (20000 - 3000, accrual) if freeze_days else (20000 - 3000 + accrual, 0)
    )


# ---- holds ----------------------------------------------------------------------------------


def test_a_held_receipt_spends_on_capture_and_accrues_only_then(till, customer):
    held = till.confirm(sale(customer, "H-1", spend=5000, hold=True)).json()
    assert held["status"] == "held"
    assert held["balance"]["held"] == 5000 and held["balance"]["available"] == 15000
    captured = till.post(f"/receipts/{held['receipt_id']}/capture").json()
    assert captured["status"] == "confirmed"
    assert captured["balance"]["available"] == 15000 + 2000  # accrual 10 % of 200 paid
    again = till.post(f"/receipts/{held['receipt_id']}/capture")
    assert again.status_code == 200 and again.json()["balance"] == captured["balance"]


def test_a_voided_hold_gives_the_bonuses_back_and_earns_nothing(till, customer):
    held = till.confirm(sale(customer, "H-2", spend=5000, hold=True)).json()
    voided = till.post(f"/receipts/{held['receipt_id']}/void").json()
    assert voided["status"] == "voided"
    assert voided["balance"]["available"] == 20000
    late = till.post(f"/receipts/{held['receipt_id']}/capture")
    assert (late.status_code, late.json()["code"]) == (409, "receipt_not_held")


def test_a_hold_past_its_timeout_voids_the_receipt_by_itself(till, customer):
    held = till.confirm(sale(customer, "H-3", spend=5000, hold=True)).json()
    from kopilka.ledger.models import Hold

    Hold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    balance = till.post("/customers/identify", {"id": customer.pk}).json()["balances"][0]
    assert balance["available"] == 20000  # released before anyone looked at the receipt
    late = till.post(f"/receipts/{held['receipt_id']}/capture")
    assert (late.status_code, late.json()["code"]) == (409, "hold_expired")
    assert Receipt.objects.get(pk=held["receipt_id"]).status == "voided"
    assert verify_ledger() == []


# ---- offline --------------------------------------------------------------------------------


def test_an_offline_receipt_accrues_but_cannot_spend(till, customer):
    earlier = (timezone.now() - timedelta(hours=5)).isoformat()
    refused = till.confirm(sale(customer, "OFF-1", spend=100, occurred_at=earlier))
    assert (refused.status_code, refused.json()["code"]) == (422, "offline_spend_not_allowed")
    accepted = till.confirm(sale(customer, "OFF-2", occurred_at=earlier)).json()
    assert accepted["offline"] is True and accepted["totals"]["accrual"] == 2500


def test_receipts_older_than_the_window_or_from_the_future_are_refused(till, customer):
    old = (timezone.now() - timedelta(days=30)).isoformat()
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert till.confirm(sale(customer, "O", occurred_at=old)).json()["code"] == "receipt_too_old"
    assert till.confirm(sale(customer, "F", occurred_at=future)).json()["code"] == (
        "occurred_in_future"
    )


# ---- refunds --------------------------------------------------------------------------------


def refund(till, receipt_id, lines=None, key=None):
    body = {} if lines is None else {"lines": lines}
    return till.post(
        f"/receipts/{receipt_id}/refunds", body, idempotency_key=key or str(uuid.uuid4())
    )


def test_partial_refunds_claw_back_in_proportion_and_add_up_exactly(till, customer):
    sold = till.confirm(
        sale(customer, "P-1", spend=3333, lines=[line(1, "A", 3333, qty="3")])
    ).json()
    accrued, spent = sold["totals"]["accrual"], sold["totals"]["bonus_spent"]
    parts = [
        refund(till, sold["receipt_id"], [{"line_no": 1, "qty": "1"}]).json() for _ in range(3)
    ]
    assert sum(p["accrual_clawed_back"] for p in parts) == accrued
    assert sum(p["bonus_returned"] for p in parts) == spent
    assert sum(p["amount"] for p in parts) == sold["totals"]["to_pay"]
    assert verify_ledger() == []


def test_refunding_more_than_was_sold_is_refused(till, customer):
    sold = till.confirm(sale(customer, "P-2")).json()
    assert refund(till, sold["receipt_id"], [{"line_no": 1, "qty": "1.5"}]).status_code == 201
    too_much = refund(till, sold["receipt_id"], [{"line_no": 1, "qty": "0.501"}])
    assert (too_much.status_code, too_much.json()["code"]) == (422, "refund_exceeds_sale")
    unknown = refund(till, sold["receipt_id"], [{"line_no": 9, "qty": "1"}])
    assert unknown.json()["code"] == "unknown_line"
    rest = refund(till, sold["receipt_id"])
    assert rest.status_code == 201
    assert refund(till, sold["receipt_id"]).json()["code"] == "nothing_to_refund"


def test_a_refund_cannot_be_refunded(till, customer):
    sold = till.confirm(sale(customer, "P-3")).json()
    refunded = refund(till, sold["receipt_id"]).json()
    again = refund(till, refunded["refund_id"])
    assert (again.status_code, again.json()["code"]) == (409, "cannot_refund_a_refund")


def test_a_refund_retry_with_the_same_key_refunds_once(till, customer):
    sold = till.confirm(sale(customer, "P-4")).json()
    first = refund(till, sold["receipt_id"], [{"line_no": 2, "qty": "1"}], key="rk")
    again = refund(till, sold["receipt_id"], [{"line_no": 2, "qty": "1"}], key="rk")
    assert first.json() == again.json()
    assert Receipt.objects.filter(kind="refund").count() == 1


def test_a_clawback_the_balance_cannot_cover_is_recorded_as_a_shortfall(till, customer):
    sold = till.confirm(sale(customer, "P-5")).json()  # accrues 2500
    spend_all = till.confirm(
        sale(customer, "P-6", spend="max", lines=[line(1, "TV", 10**6, flags={"no_accrual": True})])
    ).json()
    assert spend_all["balance"]["available"] == 0
    refunded = refund(till, sold["receipt_id"]).json()
    assert refunded["accrual_clawed_back"] + refunded["clawback_shortfall"] == 2500
    assert refunded["clawback_shortfall"] > 0
    assert verify_ledger() == []


def test_another_merchants_receipt_cannot_be_refunded(till, customer, other_merchant, actor):
    from kopilka.merchants import services as merchants

    store = merchants.store_create(merchant=other_merchant, name="B", actor=actor)
    foreign = Receipt.objects.create(
        merchant=other_merchant,
        store=store,
        register=merchants.register_create(store=store, name="B", actor=actor),
        external_number="B-1",
        occurred_at=timezone.now(),
        subtotal=100,
    )
    response = refund(till, foreign.pk)
    assert (response.status_code, response.json()["code"]) == (404, "receipt_not_found")


# ---- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"lines": []},
        {"lines": [{"line_no": 1, "sku": "A", "qty": "-1", "unit_price": 100}]},
        {"lines": [{"line_no": 1, "sku": "A", "qty": "1", "unit_price": "cheap"}]},
        {"lines": [line(1, "A", 100)], "spend": -5},
        {"lines": [line(1, "A", 100)], "unexpected": True},
        {"lines": [line(1, "A", 100), line(1, "B", 100)]},
        {"lines": [line(1, "A", 100, pos_discount=101)]},
        {"lines": [line(1, "A", 100)], "customer": {"id": 1, "phone": "+79160000000"}},
    ],
)
def test_bad_receipts_get_a_problem_document_never_a_500(till, bonus_program, body):
    response = till.post("/receipts/quote", body)
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"]


def test_a_body_that_is_not_json_is_a_problem_document(till):
    response = till.client.post(
        "/api/v1/receipts/quote",
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {till.key}"},
    )
    assert 400 <= response.status_code < 500
    assert response.json()["code"]


def test_a_wrong_key_gets_401(till):
    response = till.post("/receipts/quote", {"lines": [line(1, "A", 100)]}, key="kp_wrong_key")
    assert (response.status_code, response.json()["code"]) == (401, "invalid_api_key")


def test_a_capture_after_the_job_released_the_hold_still_says_it_expired(till, customer):
    from django.core.management import call_command

    from kopilka.ledger.models import Hold

    held = till.confirm(sale(customer, "H-4", spend=5000, hold=True)).json()
    Hold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("tick")
    assert Receipt.objects.get(pk=held["receipt_id"]).status == "voided"
    late = till.post(f"/receipts/{held['receipt_id']}/capture")
    assert (late.status_code, late.json()["code"]) == (409, "hold_expired")
