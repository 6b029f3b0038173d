"""Reminders before bonuses burn: `kopilka tick` writes a "bonuses expiring" event per account
and day, and sends it to the customer, in the merchant's language, when the merchant switched
reminders on and the customer agreed to messages; once, whatever happens next."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from kopilka import tick
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.merchants import services as merchants
from kopilka.merchants.models import OutboxEvent
from kopilka.sales import notifications, reminders
from tests.conftest import SYSTEM

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def outbox():
    notifications.outbox.clear()
    yield notifications.outbox
    notifications.outbox.clear()


@pytest.fixture
def reminding(merchant):
    return merchants.merchant_update(merchant=merchant, actor=SYSTEM, expiry_reminders=True)


@pytest.fixture
def holder(make_customer, program):
    """A customer who agreed to messages, with 150.00 of bonuses burning on 5 March."""

    def make(**fields):
        fields.setdefault("marketing_consent", True)
        customer = make_customer(**fields)
        account = ledger.account_open(customer=customer, program=program, actor=SYSTEM)
        with transaction.atomic():
            [locked] = locks.lock_accounts([account.pk])
            ledger.credit(account=locked, amount=15000, actor=SYSTEM, now=T0, lifetime_days=4)
        return customer, account

    return make


def run_tick(now):
    return tick.run(now=now, say=lambda line: None)


def deliveries() -> list:
    return sorted(e.payload.get("delivery") for e in OutboxEvent.objects.all())


def test_a_customer_who_agreed_gets_one_reminder_in_the_merchants_language(
    reminding, holder, outbox
):
    customer, _account = holder()

    assert run_tick(T0)["reminders"].sent == 1

    [message] = outbox
    assert (message.customer_id, message.channel, message.to) == (
        customer.pk,
        "sms",
        customer.phone,
    )
    assert message.kind == "bonuses_expiring"
    assert message.text == (
        "Демо-магазин: 150,00 ваших бонусов сгорят 05.03.2026. Успейте их потратить."
    )
    assert deliveries() == ["sent"]
    assert run_tick(T0 + DAY)["reminders"].sent == 0  # once, not on every run
    assert len(outbox) == 1


def test_nobody_is_reminded_without_consent_or_when_the_merchant_has_not_switched_it_on(
    merchant, holder, outbox
):
    holder(marketing_consent=False)
    run_tick(T0)  # reminders off at this merchant
    assert outbox == [] and deliveries() == ["reminders_off"]

    merchants.merchant_update(merchant=merchant, actor=SYSTEM, expiry_reminders=True)
    OutboxEvent.objects.all().delete()
    run_tick(T0)
    assert outbox == [] and deliveries() == ["no_consent"]


def test_bonuses_spent_meanwhile_are_not_reminded_of(reminding, holder, outbox):
    _customer, account = holder()
    jobs_only = tick.jobs.emit_expiring_soon(now=T0, within_days=7)
    assert jobs_only.events == 1
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.spend(account=locked, amount=15000, actor=SYSTEM, now=T0 + timedelta(hours=1))

    run_tick(T0 + timedelta(hours=2))

    assert outbox == [] and deliveries() == ["nothing_left"]


class DownGateway:
    in_background = False
    tries = 0

    def send_code(self, customer, channel, code):
        raise ConnectionError("gateway down")

    def send_message(self, customer, channel, text, kind):
        type(self).tries += 1
        raise ConnectionError("gateway down")


def test_a_failing_gateway_is_tried_again_a_few_times_then_given_up(reminding, holder, settings):
    settings.KOPILKA_NOTIFICATION_BACKEND = f"{__name__}.DownGateway"
    DownGateway.tries = 0
    holder()

    for run in range(reminders.MAX_ATTEMPTS + 2):
        run_tick(T0 + run * timedelta(hours=1))

    assert DownGateway.tries == reminders.MAX_ATTEMPTS
    [event] = OutboxEvent.objects.all()
    assert event.payload["delivery"] == "failed" and event.sent_at is not None


def test_two_senders_at_once_send_each_reminder_once(reminding, holder, outbox):
    holder()
    holder()
    tick.jobs.emit_expiring_soon(now=T0, within_days=7)
    first = reminders.deliver_expiry_reminders(now=T0)
    second = reminders.deliver_expiry_reminders(now=T0)
    assert (first.sent, second.sent) == (2, 0)
    assert len(outbox) == 2


class SlowGateway:
    """Holds its first message until `release` is set, so a second sender runs meanwhile."""

    in_background = False
    sent: list = []
    holding = threading.Event()
    release = threading.Event()

    def send_code(self, customer, channel, code):
        raise AssertionError("no codes here")

    def send_message(self, customer, channel, text, kind):
        if not self.sent:
            self.holding.set()
            self.release.wait(timeout=30)
        self.sent.append(customer.pk)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_second_sender_skips_the_reminders_the_first_is_sending(reminding, holder, settings):
    settings.KOPILKA_NOTIFICATION_BACKEND = f"{__name__}.SlowGateway"
    SlowGateway.sent, SlowGateway.holding, SlowGateway.release = (
        [],
        threading.Event(),
        threading.Event(),
    )
    customers = {holder()[0].pk, holder()[0].pk}
    tick.jobs.emit_expiring_soon(now=T0, within_days=7)
    results = {}

    def first():
        try:
            results["first"] = reminders.deliver_expiry_reminders(now=T0)
        finally:
            connection.close()

    sender = threading.Thread(target=first)
    sender.start()
    assert SlowGateway.holding.wait(timeout=30)  # the first sender holds both events
    results["second"] = reminders.deliver_expiry_reminders(now=T0)
    SlowGateway.release.set()
    sender.join(timeout=60)

    assert (results["first"].sent, results["second"].sent) == (2, 0)
    assert sorted(SlowGateway.sent) == sorted(customers)
