"""Confirmation of new customers with a one-time code, and the rate limits of the customers
endpoints, through HTTP with a real register key (codes are read from the development
notification backend's outbox, a local HTTP gateway, or the test mail outbox)."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.checks import run_checks
from django.db import connection
from django.test import Client
from django.utils import timezone

from kopilka.customers.models import Customer
from kopilka.customers.services import customer_block
from kopilka.limits import ratelimit
from kopilka.limits.models import RateCounter
from kopilka.merchants import services as merchants
from kopilka.sales import notifications
from kopilka.sales.models import OneTimeCode

PHONE = "+79161234567"
NO_LIMITS = dict.fromkeys(ratelimit.DEFAULT_LIMITS)
LONG = 10**6  # a window of ~11 days: no test run straddles two of them


class Till:
    """A till talking to the API with its key; side effects after commit run as in production."""

    def __init__(self, key, run_on_commit):
        self.client = Client(headers={"authorization": f"Bearer {key}"})
        self.run_on_commit = run_on_commit

    def post(self, path, body=None, **headers):
        with self.run_on_commit(execute=True):
            return self.client.post(
                f"/api/v1{path}",
                data=json.dumps(body or {}),
                content_type="application/json",
                headers=headers,
            )

    def confirm(self, body):
        return self.post("/receipts", body, **{"Idempotency-Key": body["external_number"]})


def issue_till(register, actor, run_on_commit):
    return Till(merchants.register_key_issue(register=register, actor=actor), run_on_commit)


@pytest.fixture
def till(register, actor, django_capture_on_commit_callbacks):
    return issue_till(register, actor, django_capture_on_commit_callbacks)


@pytest.fixture
def second_till(store, actor, django_capture_on_commit_callbacks):
    register = merchants.register_create(store=store, name="Касса 2", actor=actor)
    return issue_till(register, actor, django_capture_on_commit_callbacks)


@pytest.fixture
def their_till(other_merchant, actor, django_capture_on_commit_callbacks):
    store = merchants.store_create(merchant=other_merchant, name="Их магазин", actor=actor)
    register = merchants.register_create(store=store, name="Их касса", actor=actor)
    return issue_till(register, actor, django_capture_on_commit_callbacks)


@pytest.fixture
def outbox():
    notifications.outbox.clear()
    yield notifications.outbox
    notifications.outbox.clear()


@pytest.fixture
def confirming_program(program):
    program.require_confirmation = True
    program.welcome_bonus = 20000
    program.save()
    return program


@pytest.fixture
def pending(till, confirming_program, outbox):
    """A customer just registered at the till, awaiting the code sent to their phone."""
    body = till.post("/customers", {"phone": PHONE, "first_name": "Анна"}).json()
    return Customer.objects.get(pk=body["id"])


def last_code(outbox) -> str:
    return outbox[-1].code


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def problem_of(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


# --- registration with confirmation ----------------------------------------------------------


def test_a_program_that_requires_confirmation_registers_customers_pending_and_sends_a_code(
    till, confirming_program, outbox
):
    response = till.post("/customers", {"phone": "8 916 123-45-67"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["confirmation_required"] is True
    assert body["confirmation_channel"] == "sms"
    [message] = outbox
    assert message.to == PHONE and message.channel == "sms"
    assert len(message.code) == 6 and message.code.isdigit()
    assert message.code in message.text


def test_the_welcome_bonus_waits_for_the_confirmation(till, confirming_program, outbox):
    body = till.post("/customers", {"phone": PHONE}).json()
    assert body["balances"] == [
        {
            "program_id": confirming_program.pk,
            "program": "Бонусы",
            "available": 0,
            "pending": 0,
            "held": 0,
        }
    ]


def test_the_right_code_activates_the_customer_and_gives_the_welcome_bonus(till, pending, outbox):
    response = till.post(f"/customers/{pending.pk}/confirm", {"code": last_code(outbox)})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "active"
    assert body["balances"][0]["available"] == 20000
    assert not OneTimeCode.objects.filter(customer=pending).exists()


def test_confirming_an_active_customer_again_changes_nothing(till, pending, outbox):
    code = last_code(outbox)
    first = till.post(f"/customers/{pending.pk}/confirm", {"code": code}).json()
    again = till.post(f"/customers/{pending.pk}/confirm", {"code": code})
    assert again.status_code == 200
    assert again.json() == first


def test_the_code_is_stored_only_as_a_hash(pending, outbox):
    code = last_code(outbox)
    row = OneTimeCode.objects.get(customer=pending)
    assert code not in row.code_hash and code not in row.salt
    assert row.attempts_left == 5
    assert timedelta(minutes=9) < row.expires_at - timezone.now() <= timedelta(minutes=10)


def test_a_wrong_code_costs_an_attempt_and_says_how_many_are_left(till, pending, outbox):
    code = last_code(outbox)
    for left in (4, 3, 2, 1, 0):
        response = till.post(f"/customers/{pending.pk}/confirm", {"code": wrong(code)})
        assert response.status_code == 422
        body = problem_of(response)
        assert body["code"] == "invalid_code"
        assert body["attempts_left"] == left


def test_after_five_wrong_codes_even_the_right_one_is_refused(till, pending, outbox):
    code = last_code(outbox)
    for _ in range(5):
        till.post(f"/customers/{pending.pk}/confirm", {"code": wrong(code)})
    response = till.post(f"/customers/{pending.pk}/confirm", {"code": code})
    assert response.status_code == 409
    assert problem_of(response)["code"] == "code_expired"
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_an_expired_code_is_refused(till, pending, outbox):
    OneTimeCode.objects.filter(customer=pending).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = till.post(f"/customers/{pending.pk}/confirm", {"code": last_code(outbox)})
    assert response.status_code == 409
    assert problem_of(response)["code"] == "code_expired"


def test_a_new_code_replaces_the_old_one(till, pending, outbox):
    old = last_code(outbox)
    response = till.post(f"/customers/{pending.pk}/confirmation-code")
    assert response.status_code == 200
    assert response.json()["channel"] == "sms"
    assert response.json()["sent_to"] == "+7 916 ***-**-67"
    new = last_code(outbox)
    if old != new:  # one chance in a million that the new code is the same
        refused = till.post(f"/customers/{pending.pk}/confirm", {"code": old})
        assert problem_of(refused)["code"] == "invalid_code"
    accepted = till.post(f"/customers/{pending.pk}/confirm", {"code": new})
    assert accepted.json()["status"] == "active"


def test_a_new_code_also_restores_the_attempts(till, pending, outbox):
    for _ in range(5):
        till.post(f"/customers/{pending.pk}/confirm", {"code": wrong(last_code(outbox))})
    till.post(f"/customers/{pending.pk}/confirmation-code")
    response = till.post(f"/customers/{pending.pk}/confirm", {"code": last_code(outbox)})
    assert response.status_code == 200


def test_a_customer_without_a_phone_gets_the_code_by_email(till, confirming_program, outbox):
    body = till.post("/customers", {"email": "Anna@Example.com"}).json()
    assert body["confirmation_channel"] == "email"
    assert outbox[-1].to == "anna@example.com"
    resent = till.post(f"/customers/{body['id']}/confirmation-code").json()
    assert resent["sent_to"] == "a***@example.com"


def test_no_code_is_sent_to_a_customer_who_is_not_pending(till, make_customer, outbox):
    customer = make_customer()
    response = till.post(f"/customers/{customer.pk}/confirmation-code")
    assert response.status_code == 409
    assert problem_of(response)["code"] == "customer_status_conflict"
    assert outbox == []


def test_a_blocked_customer_cannot_be_confirmed(till, pending, outbox, actor):
    customer_block(customer=pending, actor=actor)
    response = till.post(f"/customers/{pending.pk}/confirm", {"code": last_code(outbox)})
    assert response.status_code == 409
    assert problem_of(response)["code"] == "customer_status_conflict"


def test_another_merchants_till_cannot_confirm_or_resend(their_till, pending, outbox):
    code = last_code(outbox)
    for path, body in (("confirm", {"code": code}), ("confirmation-code", None)):
        response = their_till.post(f"/customers/{pending.pk}/{path}", body)
        assert response.status_code == 404
        assert problem_of(response)["code"] == "customer_not_found"
    assert len(outbox) == 1
    assert OneTimeCode.objects.get(customer=pending).attempts_left == 5


class RecordingBackend:
    sent: list = []

    def send_code(self, customer, channel, code):
        self.sent.append((customer.pk, channel, code))


class BrokenBackend:
    def send_code(self, customer, channel, code):
        raise ConnectionError("SMS gateway down")


def test_the_notification_backend_is_chosen_by_settings(till, confirming_program, outbox, settings):
    settings.KOPILKA_NOTIFICATION_BACKEND = f"{__name__}.RecordingBackend"
    RecordingBackend.sent.clear()
    body = till.post("/customers", {"phone": PHONE}).json()
    [(customer_id, channel, code)] = RecordingBackend.sent
    assert (customer_id, channel) == (body["id"], "sms")
    assert outbox == []
    assert till.post(f"/customers/{customer_id}/confirm", {"code": code}).status_code == 200


def test_a_failing_gateway_does_not_lose_the_registration(
    till, confirming_program, settings, caplog
):
    settings.KOPILKA_NOTIFICATION_BACKEND = f"{__name__}.BrokenBackend"
    response = till.post("/customers", {"phone": PHONE})
    assert response.status_code == 201
    assert OneTimeCode.objects.filter(customer_id=response.json()["id"]).exists()
    assert "could not send" in caplog.text


# --- delivery: a webhook gateway (a local HTTP server here), e-mail, the system check ----------

WEBHOOK = "kopilka.sales.notifications.WebhookBackend"


class Gateway(BaseHTTPRequestHandler):
    """An SMS gateway stand-in: records each POST and answers with `status` once `answer` is
    set (a slow gateway is one whose test leaves it unset for a while)."""

    received: list = []
    answered: list = []
    status = 202
    answer = threading.Event()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, dict(self.headers), json.loads(body)))
        self.answer.wait(timeout=20)
        type(self).answered.append(self.path)
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Gateway.received, Gateway.answered, Gateway.status = [], [], 202
    Gateway.answer = threading.Event()
    Gateway.answer.set()
    settings.KOPILKA_NOTIFICATION_BACKEND = WEBHOOK
    settings.KOPILKA_NOTIFICATION_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/sms"
    settings.KOPILKA_NOTIFICATION_WEBHOOK_TOKEN = "gateway-secret"
    yield Gateway
    Gateway.answer.set()
    notifications.wait_for_deliveries(timeout=30)
    server.shutdown()
    server.server_close()


def test_the_webhook_gets_the_code_and_the_customer_confirms_with_it(
    till, confirming_program, gateway, outbox
):
    registered = till.post("/customers", {"phone": PHONE})
    assert registered.status_code == 201
    notifications.wait_for_deliveries(timeout=30)

    [(path, headers, body)] = gateway.received
    assert path == "/sms" and headers["Authorization"] == "Bearer gateway-secret"
    assert body["kind"] == "confirmation_code"
    assert (body["channel"], body["to"], body["customer_id"]) == (
        "sms",
        PHONE,
        registered.json()["id"],
    )
    assert body["text"].startswith("Демо-магазин: ваш код подтверждения — ")  # the merchant's
    [code] = [word.strip(".") for word in body["text"].split() if word.strip(".").isdigit()]
    assert outbox == []  # the development backend was not used
    confirmed = till.post(f"/customers/{body['customer_id']}/confirm", {"code": code})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "active"


def test_a_gateway_that_refuses_loses_nothing_and_is_logged(
    till, confirming_program, gateway, caplog
):
    gateway.status = 503
    registered = till.post("/customers", {"phone": PHONE})
    assert registered.status_code == 201
    notifications.wait_for_deliveries(timeout=30)
    assert len(gateway.received) == 1
    assert OneTimeCode.objects.filter(customer_id=registered.json()["id"]).exists()
    assert "could not send" in caplog.text


def test_the_till_gets_its_answer_without_waiting_for_a_slow_gateway(
    till, confirming_program, gateway, merchant, settings
):
    # Longer than the gateway keeps a message unanswered: a till that waited for the gateway
    # would get its answer only after the gateway had given its own.
    settings.KOPILKA_NOTIFICATION_WEBHOOK_TIMEOUT = 30
    merchant.language = "uk"
    merchant.save(update_fields=["language"])
    gateway.answer.clear()  # the gateway takes the message but does not answer yet

    registered = till.post("/customers", {"phone": PHONE})
    assert registered.status_code == 201
    assert gateway.answered == []  # the till had its answer before the gateway gave one

    gateway.answer.set()
    notifications.wait_for_deliveries(timeout=30)
    [(_path, _headers, body)] = gateway.received
    assert gateway.answered == ["/sms"]
    # Sent from another thread, still in the merchant's language.
    assert body["text"].startswith("Демо-магазин: ваш код підтвердження — ")


def test_codes_by_email_reach_customers_registered_with_an_address(
    till, confirming_program, settings
):
    settings.KOPILKA_NOTIFICATION_BACKEND = "kopilka.sales.notifications.EmailBackend"
    registered = till.post("/customers", {"email": "anna@example.com"})
    assert registered.status_code == 201
    notifications.wait_for_deliveries(timeout=30)
    [letter] = mail.outbox
    assert letter.to == ["anna@example.com"]
    [code] = [word.strip(".") for word in letter.body.split() if word.strip(".").isdigit()]
    assert OneTimeCode.objects.get(customer_id=registered.json()["id"]).attempts_left > 0
    confirmed = till.post(f"/customers/{registered.json()['id']}/confirm", {"code": code})
    assert confirmed.status_code == 200


def warnings(settings, **values) -> list[str]:
    for name, value in values.items():
        setattr(settings, name, value)
    return [message.id for message in run_checks() if message.id.startswith("kopilka.")]


def test_a_server_without_debug_that_only_logs_codes_is_warned(settings):
    default = "kopilka.sales.notifications.LogBackend"
    assert warnings(settings, DEBUG=False, KOPILKA_NOTIFICATION_BACKEND=default) == ["kopilka.W001"]
    assert warnings(settings, DEBUG=True, KOPILKA_NOTIFICATION_BACKEND=default) == []
    assert warnings(settings, DEBUG=False, KOPILKA_NOTIFICATION_BACKEND=WEBHOOK) == []


# --- rate limits -----------------------------------------------------------------------------


@pytest.fixture
def limits(settings):
    """Set some limits (requests, seconds) for this test; the others are off."""

    def set_limits(**scopes):
        settings.KOPILKA_RATE_LIMITS = {**NO_LIMITS, **scopes}

    return set_limits


def assert_rate_limited(response):
    assert response.status_code == 429
    body = problem_of(response)
    assert body["code"] == "rate_limited"
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= LONG
    assert body["retry_after"] == retry_after


def test_identify_is_limited_per_register_with_retry_after(till, make_customer, limits):
    limits(identify=(3, LONG))
    make_customer(phone=PHONE)
    for _ in range(3):
        assert till.post("/customers/identify", {"phone": PHONE}).status_code == 200
    assert_rate_limited(till.post("/customers/identify", {"phone": PHONE}))


def test_failed_lookups_count_toward_the_limit(till, limits):
    limits(identify=(2, LONG))
    for _ in range(2):
        assert till.post("/customers/identify", {"phone": "+79160000000"}).status_code == 404
    assert_rate_limited(till.post("/customers/identify", {"phone": "+79160000000"}))


def test_one_busy_register_does_not_block_another(till, second_till, make_customer, limits):
    limits(identify=(1, LONG))
    make_customer(phone=PHONE)
    till.post("/customers/identify", {"phone": PHONE})
    assert_rate_limited(till.post("/customers/identify", {"phone": PHONE}))
    assert second_till.post("/customers/identify", {"phone": PHONE}).status_code == 200


def test_registration_is_limited_per_register(till, limits):
    limits(register=(2, LONG))
    assert till.post("/customers", {"phone": "+79160000001"}).status_code == 201
    assert till.post("/customers", {"phone": "+79160000002"}).status_code == 201
    response = till.post("/customers", {"phone": "+79160000003"})
    assert_rate_limited(response)
    assert not Customer.objects.filter(phone="+79160000003").exists()


def test_code_checks_are_limited_per_register(till, pending, outbox, limits):
    limits(code=(2, LONG))
    code = last_code(outbox)
    for _ in range(2):
        till.post(f"/customers/{pending.pk}/confirm", {"code": wrong(code)})
    assert_rate_limited(till.post(f"/customers/{pending.pk}/confirm", {"code": code}))
    assert OneTimeCode.objects.get(customer=pending).attempts_left == 3


def test_code_attempts_are_limited_per_customer_across_registers(
    till, second_till, pending, outbox, limits
):
    limits(code_attempt=(2, LONG))
    code = last_code(outbox)
    till.post(f"/customers/{pending.pk}/confirm", {"code": wrong(code)})
    second_till.post(f"/customers/{pending.pk}/confirm", {"code": wrong(code)})
    assert_rate_limited(second_till.post(f"/customers/{pending.pk}/confirm", {"code": code}))


def test_resends_are_limited_per_customer_and_the_first_code_counts(
    till, second_till, confirming_program, outbox, limits
):
    limits(code_send=(3, LONG))
    customer_id = till.post("/customers", {"phone": PHONE}).json()["id"]
    assert till.post(f"/customers/{customer_id}/confirmation-code").status_code == 200
    assert second_till.post(f"/customers/{customer_id}/confirmation-code").status_code == 200
    assert_rate_limited(till.post(f"/customers/{customer_id}/confirmation-code"))
    assert len(outbox) == 3


def test_default_limits_apply_without_settings(till, make_customer, settings):
    del settings.KOPILKA_RATE_LIMITS
    make_customer(phone=PHONE)
    allowed, _period = ratelimit.DEFAULT_LIMITS["identify"]
    statuses = {till.post("/customers/identify", {"phone": PHONE}).status_code for _ in range(3)}
    assert statuses == {200}
    assert allowed >= 3


def test_counters_live_in_the_database_one_row_per_window(db):
    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    for seconds in (0, 10, 59):
        ratelimit.hit("identify", "register:1", now=start + timedelta(seconds=seconds))
    ratelimit.hit("identify", "register:1", now=start + timedelta(seconds=60))
    rows = RateCounter.objects.filter(key="identify:register:1").order_by("window_start")
    assert [(r.window_end - r.window_start, r.count) for r in rows] == [(60, 3), (60, 1)]


def test_a_new_window_starts_a_new_count(db, settings):
    settings.KOPILKA_RATE_LIMITS = {"identify": (2, 60)}
    start = datetime(2026, 5, 1, 12, 0, 30, tzinfo=UTC)
    ratelimit.hit("identify", "register:1", now=start)
    ratelimit.hit("identify", "register:1", now=start)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit("identify", "register:1", now=start + timedelta(seconds=5))
    assert refused.value.retry_after == 25
    assert ratelimit.hit("identify", "register:1", now=start + timedelta(seconds=30)) == 1


def test_a_limit_of_none_switches_the_scope_off(db, settings):
    settings.KOPILKA_RATE_LIMITS = {"identify": None}
    for _ in range(100):
        ratelimit.hit("identify", "register:1")
    assert not RateCounter.objects.exists()


def test_a_new_window_sweeps_ended_ones_when_the_draw_says_so(db, monkeypatch):
    monkeypatch.setattr(ratelimit, "SWEEP_ONE_IN", 1)  # every new window sweeps
    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    ratelimit.hit("identify", "register:1", now=start)
    ratelimit.hit("code", "register:1", now=start)
    ratelimit.hit("identify", "register:1", now=start + timedelta(minutes=5))
    assert list(RateCounter.objects.values_list("key", "count")) == [("identify:register:1", 1)]
    assert RateCounter.objects.get().window_start == int((start + timedelta(minutes=5)).timestamp())


def test_sweeping_deletes_only_ended_windows(db):
    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    ratelimit.hit("identify", "register:1", now=start)
    ratelimit.hit("identify", "register:1", now=start + timedelta(minutes=5))
    assert ratelimit.sweep(now=start + timedelta(minutes=5)) == 1
    assert RateCounter.objects.get().count == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_pass_the_limit_together(settings):
    settings.KOPILKA_RATE_LIMITS = {"identify": (25, LONG)}
    passed, refused = [], []
    barrier = threading.Barrier(8)

    def worker():
        try:
            barrier.wait()
            for _ in range(10):
                try:
                    ratelimit.hit("identify", "register:race")
                    passed.append(1)
                except ratelimit.RateLimited:
                    refused.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(passed), len(refused)) == (25, 55)
    assert RateCounter.objects.get(key="identify:register:race").count == 80


# --- one look-up limit for every way of finding a customer ------------------------------------


def quote_by(reference):
    return {
        "customer": reference,
        "lines": [{"line_no": 1, "sku": "A", "qty": "1", "unit_price": 100}],
    }


def test_identify_quote_and_confirm_by_contact_share_the_registers_look_up_limit(
    till, make_customer, limits
):
    limits(identify=(3, LONG))
    make_customer(phone=PHONE, email="anna@example.com")
    assert till.post("/customers/identify", {"phone": PHONE}).status_code == 200
    assert till.post("/receipts/quote", quote_by({"phone": PHONE})).status_code == 200
    assert till.post("/receipts/quote", quote_by({"email": "anna@example.com"})).status_code == 200
    # The fourth look-up, however it asks, is one too many: a quote is no side door.
    assert_rate_limited(till.post("/receipts/quote", quote_by({"phone": "+79160000000"})))
    assert_rate_limited(till.confirm({**quote_by({"phone": PHONE}), "external_number": "R-1"}))


def test_a_quote_by_customer_id_is_no_look_up(till, make_customer, limits):
    limits(identify=(1, LONG))
    customer = make_customer(phone=PHONE)
    for _ in range(3):
        assert till.post("/receipts/quote", quote_by({"id": customer.pk})).status_code == 200


def test_a_refused_confirm_still_counts_its_look_up(till, limits):
    limits(identify=(2, LONG))
    for n in range(2):  # nobody has this phone: each confirm is refused
        answer = till.confirm({**quote_by({"phone": "+79160000001"}), "external_number": f"N{n}"})
        assert answer.status_code == 404
    assert_rate_limited(till.post("/customers/identify", {"phone": "+79160000002"}))


def test_one_phone_is_counted_across_registers_and_spellings(
    till, second_till, make_customer, limits
):
    limits(identify_value=(2, LONG))
    make_customer(phone=PHONE)
    assert till.post("/customers/identify", {"phone": "+7 916 123-45-67"}).status_code == 200
    assert (
        second_till.post("/receipts/quote", quote_by({"phone": "89161234567"})).status_code == 200
    )
    assert_rate_limited(second_till.post("/customers/identify", {"phone": PHONE}))
    # Another phone is its own count.
    assert till.post("/customers/identify", {"phone": "+79160000003"}).status_code == 404


def test_registration_answers_whether_a_phone_is_taken_so_it_counts_as_a_look_up(till, limits):
    limits(identify=(1, LONG))
    assert till.post("/customers/identify", {"phone": "+79160000004"}).status_code == 404
    assert_rate_limited(till.post("/customers", {"phone": "+79160000005"}))
