"""The documented maxima at the API (docs/pos-api.md, "Maxima"; kopilka.bounds): a receipt
at every maximum is booked, one step above is refused with a problem document naming the
field and nothing is booked, a caller skipping the schemas is refused by the service, an
oversized body is a 413, and the largest receipt under the most generous configuration
books without overflow on SQLite and PostgreSQL."""

import json
import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kopilka import bounds
from kopilka.customers.models import Customer
from kopilka.errors import AboveMaximum
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Entry
from kopilka.ledger.verify import verify_ledger
from kopilka.pos.schemas import ConfirmIn, CustomerRef, LineIn, QuoteIn
from kopilka.programs import services as programs
from kopilka.sales import services as pos
from kopilka.sales.models import Receipt

from .conftest import line

pytestmark = pytest.mark.django_db

PHONE = "+79161234567"
BILLION_ROUBLES = 100_000_000_000  # kopecks


@pytest.fixture
def anna(bonus_program, actor, make_customer):
    """A customer of a 5 % program with 1,000,000,000.00 bonuses to spend."""
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 5)], actor=actor)
    customer = make_customer(phone=PHONE)
    account = programs.customer_enrol(customer=customer, program=bonus_program, actor=actor)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=BILLION_ROUBLES, actor=actor)
    return customer


def sale(*lines, **extra):
    return {
        "customer": {"phone": PHONE},
        "external_number": str(uuid.uuid4())[:12],
        "lines": list(lines),
        **extra,
    }


def assert_refused(response, *, naming: str):
    """422, a problem document, and `naming` in the field it names (a service bound) or in
    the location of one of its errors (a schema bound)."""
    assert response.status_code == 422, response.content[:400]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    if body["code"] == "above_maximum":
        assert body["field"] == naming
    else:
        assert body["code"] == "validation_error"
        located = [".".join(str(p) for p in error["loc"][2:]) for error in body["errors"]]
        assert any(naming == place or place.startswith(naming + ".") for place in located), located
    return body


# ---- what the tester found --------------------------------------------------------------------


def test_a_line_of_a_million_units_at_the_largest_price_is_refused_and_books_nothing(till, anna):
    """1,000,000 x 1,000,000,000.00 roubles was booked with 5 x 10^15 kopecks of bonuses."""
    response = till.confirm(sale(line(1, "GOLD", BILLION_ROUBLES, qty="1000000")))
    body = assert_refused(response, naming="lines[0]")
    assert body["maximum"] == 100_000_000_000
    assert body["value"] == 100_000_000_000_000_000
    assert body["line_no"] == 1
    assert not Receipt.objects.exists()
    assert Entry.objects.count() == 1  # anna's own billion, nothing more


def test_a_hundred_such_lines_are_refused_not_a_server_error(till, anna):
    lines = [line(n, f"G{n}", BILLION_ROUBLES, qty="1000000") for n in range(1, 101)]
    assert_refused(till.confirm(sale(*lines)), naming="lines[0]")
    assert_refused(till.post("/receipts/quote", {"lines": lines}), naming="lines[0]")


def test_a_five_megabyte_body_is_a_413_problem_document(till):
    response = till.client.post(
        "/api/v1/receipts",
        data=b"{" + b" " * 5_000_000 + b"}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {till.key}", "Idempotency-Key": "big-1"},
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["status"], body["max_bytes"]) == ("too_large", 413, 4 * 1024**2)


def test_the_largest_receipt_with_its_longest_texts_fits_in_the_body_limit(till, anna):
    """1000 lines, every text at its longest and every character escaped as \\uXXXX (what
    json.dumps sends by default): 3.6 MB, under the 4 MiB limit."""
    ж = "Ж"
    lines = [
        {
            **line(n, f"{n:04d}" + ж * 60, 100_000, qty="1"),
            "name": ж * 300,
            "category": ж * 200,
            "pos_discount": 0,
            "flags": {"no_accrual": False, "no_discount": False, "no_bonus_payment": False},
        }
        for n in range(1, 1001)
    ]
    body = sale(*lines, external_number=ж * 64)
    data = json.dumps(body).encode()
    assert 3_500_000 < len(data) < bounds.MAX_REQUEST_BODY
    response = till.client.post(
        "/api/v1/receipts",
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {till.key}", "Idempotency-Key": "longest-1"},
    )
    assert response.status_code == 201, response.content[:300]
    assert response.json()["totals"]["subtotal"] == 1000 * 100_000


# ---- each bound: the maximum is accepted, one step above is refused ---------------------------

AT_AND_ABOVE = {
    # bound: (the receipt at the maximum, the receipt one step above, the field named)
    "quantity": (
        sale(line(1, "NAIL", 1, qty="1000000")),
        sale(line(1, "NAIL", 1, qty="1000000.001")),
        "lines.0.qty",
    ),
    "unit price": (
        sale(line(1, "CAR", BILLION_ROUBLES)),
        sale(line(1, "CAR", BILLION_ROUBLES + 1)),
        "lines.0.unit_price",
    ),
    "till's discount": (
        sale(line(1, "CAR", BILLION_ROUBLES, pos_discount=BILLION_ROUBLES)),
        sale(line(1, "CAR", BILLION_ROUBLES, pos_discount=BILLION_ROUBLES + 1)),
        "lines.0.pos_discount",
    ),
    # 2 x 500,000,000.00 roubles, then 2 x 500,000,000.01.
    "line amount": (
        sale(line(1, "PAIR", BILLION_ROUBLES // 2, qty="2")),
        sale(line(1, "PAIR", BILLION_ROUBLES // 2 + 1, qty="2")),
        "lines[0]",
    ),
    "lines per receipt": (
        sale(*(line(n, "A", 100) for n in range(1, 1001))),
        sale(*(line(n, "A", 100) for n in range(1, 1002))),
        "lines",
    ),
    "receipt total": (
        sale(line(1, "A", BILLION_ROUBLES // 2), line(2, "B", BILLION_ROUBLES // 2)),
        sale(line(1, "A", BILLION_ROUBLES // 2), line(2, "B", BILLION_ROUBLES // 2 + 1)),
        "lines",
    ),
    "bonus payment": (
        sale(line(1, "CAR", BILLION_ROUBLES), spend=BILLION_ROUBLES),
        sale(line(1, "CAR", BILLION_ROUBLES), spend=BILLION_ROUBLES + 1),
        "spend",
    ),
    "payment": (
        sale(line(1, "CAR", BILLION_ROUBLES), payments=[{"method": "card", "amount": 10**11}]),
        sale(line(1, "CAR", BILLION_ROUBLES), payments=[{"method": "card", "amount": 10**11 + 1}]),
        "payments.0.amount",
    ),
}


@pytest.mark.parametrize("bound", AT_AND_ABOVE)
def test_a_receipt_at_the_maximum_is_booked_and_one_step_above_is_refused(till, anna, bound):
    at, above, field = AT_AND_ABOVE[bound]
    booked = till.confirm(at)
    assert booked.status_code == 201, booked.content[:400]
    quoted = till.post(
        "/receipts/quote", {k: v for k, v in above.items() if k in QuoteIn.model_fields}
    )
    assert_refused(till.confirm(above), naming=field)
    if "payments" not in above:
        assert_refused(quoted, naming=field)
    assert Receipt.objects.count() == 1


def test_the_openapi_schema_shows_the_maxima(till):
    schemas = till.client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    line_in, confirm_in = schemas["LineIn"]["properties"], schemas["ConfirmIn"]["properties"]
    assert line_in["unit_price"]["maximum"] == 100_000_000_000
    assert line_in["pos_discount"]["maximum"] == 100_000_000_000
    assert line_in["qty"]["anyOf"][0]["maximum"] == 1_000_000
    assert confirm_in["lines"]["maxItems"] == 1000
    assert confirm_in["spend"]["anyOf"][0]["maximum"] == 100_000_000_000
    assert confirm_in["payments"]["maxItems"] == 20
    assert schemas["PaymentIn"]["properties"]["amount"]["maximum"] == 100_000_000_000


# ---- a caller that skips the schemas ----------------------------------------------------------


def unchecked(model, **fields):
    """A request object built without validation, as a careless caller in our own code would."""
    return model.model_construct(**fields)


def test_the_services_refuse_what_the_schemas_would_have_refused(register, anna):
    huge = unchecked(
        LineIn,
        line_no=1,
        sku="GOLD",
        name="",
        category=None,
        qty=Decimal(10**6),
        unit_price=10**11,
        pos_discount=0,
        flags=None,
    )
    customer = unchecked(CustomerRef, id=None, card=None, phone=PHONE, email=None)
    quote = unchecked(
        QuoteIn, customer=customer, lines=[huge], spend=0, occurred_at=None, channel="pos"
    )
    with pytest.raises(AboveMaximum) as refused:
        pos.receipt_quote(register=register, data=quote)
    assert refused.value.details["field"] == "lines[0]"
    confirm = unchecked(ConfirmIn, **dict(quote), external_number="X-1", payments=[], hold=False)
    with pytest.raises(AboveMaximum):
        pos.receipt_confirm(register=register, key="k-1", data=confirm)
    too_many = unchecked(QuoteIn, **{**dict(quote), "lines": [huge] * 1001})
    with pytest.raises(AboveMaximum) as refused:
        pos.receipt_quote(register=register, data=too_many)
    assert refused.value.details == {"field": "lines", "maximum": 1000, "value": 1001}
    assert not Receipt.objects.exists()


# ---- the largest receipt under the most generous configuration, on both databases -------------


@pytest.fixture
def generous(merchant, bonus_program, actor):
    """100 % accrual from the first kopeck, two x100 multipliers, +100 %, five fixed bonuses
    and a welcome bonus of 10,000,000.00 each: the most the bounds allow."""
    programs.accrual_rule_set(program=bonus_program, steps=[(0, bounds.MAX_PERCENT)], actor=actor)
    bonus_program.welcome_bonus = bounds.MAX_BONUS_GRANT
    bonus_program.save()
    for n in (1, 2):
        programs.campaign_create(
            merchant=merchant,
            program=bonus_program,
            name=f"x{n}",
            kind="multiplier",
            multiplier=bounds.MAX_CAMPAIGN_MULTIPLIER,
            actor=actor,
        )
    programs.campaign_create(
        merchant=merchant,
        program=bonus_program,
        name="+100",
        kind="extra_percent",
        extra_percent=bounds.MAX_PERCENT,
        actor=actor,
    )
    for n in range(5):
        programs.campaign_create(
            merchant=merchant,
            program=bonus_program,
            name=f"fixed {n}",
            kind="fixed_bonus",
            bonus=bounds.MAX_BONUS_GRANT,
            actor=actor,
        )
    return bonus_program


@st.composite
def largest_receipts(draw):
    """Lines whose quantity x price add up to exactly 10^11 kopecks."""
    count = draw(st.integers(1, 40))
    qty = draw(st.sampled_from(["1", "1000", "0.5"]))
    share = BILLION_ROUBLES // count
    price = int(share / Decimal(qty))
    lines = [line(n, f"S{n}", price, qty=qty) for n in range(1, count)]
    left = BILLION_ROUBLES - (count - 1) * int(price * Decimal(qty))
    lines.append(line(count, "LAST", left))
    return lines, draw(st.sampled_from([0, "max"]))


@settings(max_examples=6)
@given(receipt=largest_receipts())
@example(receipt=([line(n, f"S{n}", 10**8) for n in range(1, 1001)], 0))
def test_the_largest_receipt_books_under_the_most_generous_configuration(
    till, generous, make_customer, receipt
):
    lines, spend = receipt
    phone = f"+7916{uuid.uuid4().int % 10**7:07d}"
    make_customer(phone=phone)
    first = till.confirm({**sale(*lines), "customer": {"phone": phone}})
    assert first.status_code == 201, first.content[:400]
    totals = first.json()["totals"]
    assert totals["subtotal"] == 100_000_000_000
    assert totals["accrual"] == 100_000_000_000  # 100 % at most, however multiplied
    assert totals["campaign_bonus"] == 5 * 1_000_000_000
    # The bonuses just earned pay for the same receipt again, or none of it.
    again = till.confirm({**sale(*lines, spend=spend), "customer": {"phone": phone}})
    assert again.status_code == 201, again.content[:400]
    spent = again.json()["totals"]["bonus_spent"]
    assert spent == (100_000_000_000 if spend == "max" else 0)
    refund = till.post(
        f"/receipts/{again.json()['receipt_id']}/refunds", {}, idempotency_key=str(uuid.uuid4())
    )
    assert refund.status_code == 201, refund.content[:400]
    customer = Customer.objects.get(phone=phone)
    assert customer.purchases_total == 100_000_000_000  # two sales, one refunded
    assert verify_ledger() == []
