"""When one program follows another (Spring ends, Summer starts), the points customers left
in the old one follow them to the program they are now in, lot by lot with their expiry;
customers still in the old program (by their card's type) keep theirs there."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kopilka.customers import card_types
from kopilka.customers.models import Card
from kopilka.customers.services import card_issue
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.exceptions import ReasonRequired
from kopilka.ledger.models import Account, Lot
from kopilka.ledger.selectors import account_balance
from kopilka.ledger.verify import verify_ledger
from kopilka.merchants.models import AuditEvent, Role
from kopilka.programs import services as programs
from kopilka.programs.exceptions import ProgramNotFound
from tests.backoffice.admin_client import staff_user
from tests.conftest import SYSTEM

NOW = timezone.now()


@pytest.fixture
def seasons(merchant):
    switch = NOW - timedelta(days=1)
    spring = programs.program_create(
        merchant=merchant, name="Весна", actor=SYSTEM, active_to=switch
    )
    summer = programs.program_create(
        merchant=merchant, name="Лето", actor=SYSTEM, active_from=switch
    )
    return spring, summer


def with_points(customer, program, amount, *, lifetime_days=60):
    account = ledger.account_open(customer=customer, program=program, actor=SYSTEM)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(
            account=locked,
            amount=amount,
            actor=SYSTEM,
            now=NOW - timedelta(days=10),
            lifetime_days=lifetime_days,
        )
    return account


def available(customer, program) -> int:
    account = Account.objects.filter(customer=customer, program=program).first()
    return account_balance(account, now=NOW).available if account else 0


def test_points_left_in_an_ended_program_follow_the_customer_to_the_current_one(
    merchant, seasons, make_customer
):
    spring, summer = seasons
    anna = make_customer()
    with_points(anna, spring, 30_000)
    [spring_lot] = Lot.objects.filter(account__customer=anna)

    moved = card_types.balances_follow_programs(
        merchant=merchant, from_program=spring, actor=SYSTEM, reason="Лето началось", now=NOW
    )

    assert (moved.customers, moved.amount) == (1, 30_000)
    assert (available(anna, spring), available(anna, summer)) == (0, 30_000)
    summer_lot = Lot.objects.get(account__customer=anna, account__program=summer)
    assert summer_lot.expires_at == spring_lot.expires_at  # the points burn when they would have
    assert verify_ledger() == []
    event = AuditEvent.objects.get(action="program.balances_follow")
    assert (event.reason, event.data) == ("Лето началось", {"customers": 1, "amount": 30_000})


def test_customers_still_in_the_old_program_by_their_card_keep_their_points(
    merchant, seasons, make_customer
):
    spring, summer = seasons
    spring_cards = card_types.card_type_create(
        merchant=merchant, name="Весенние", program=spring, actor=SYSTEM
    )
    boris = make_customer()
    card_issue(
        customer=boris,
        kind=Card.Kind.PLASTIC,
        number="555001",
        actor=SYSTEM,
        card_type=spring_cards,
    )
    with_points(boris, spring, 10_000)

    moved = card_types.balances_follow_programs(
        merchant=merchant, from_program=spring, actor=SYSTEM, reason="Лето", now=NOW
    )

    assert (moved.customers, moved.amount) == (0, 0)
    assert (available(boris, spring), available(boris, summer)) == (10_000, 0)


def test_a_reason_is_required_and_another_merchants_program_is_not_found(
    merchant, other_merchant, seasons
):
    spring, _summer = seasons
    with pytest.raises(ReasonRequired):
        card_types.balances_follow_programs(
            merchant=merchant, from_program=spring, actor=SYSTEM, reason=" "
        )
    theirs = programs.program_create(merchant=other_merchant, name="Их", actor=SYSTEM)
    with pytest.raises(ProgramNotFound):
        card_types.balances_follow_programs(
            merchant=merchant, from_program=theirs, actor=SYSTEM, reason="x"
        )


def test_the_program_list_moves_the_balances_for_owners_not_marketers(
    client, merchant, seasons, make_customer
):
    spring, summer = seasons
    anna = make_customer()
    with_points(anna, spring, 5_000)
    action = {"action": "move_balances", "_selected_action": [spring.pk]}

    client.force_login(staff_user(merchant, Role.MARKETER))
    client.post("/admin/programs/program/", {**action, "apply": "1", "reason": "Лето"})
    assert available(anna, spring) == 5_000

    client.force_login(staff_user(merchant, Role.OWNER))
    page = client.post("/admin/programs/program/", action)
    assert page.status_code == 200 and "move-balances" in page.content.decode()
    done = client.post(
        "/admin/programs/program/", {**action, "apply": "1", "reason": "Лето"}, follow=True
    )
    assert (available(anna, spring), available(anna, summer)) == (0, 5_000)
    assert "Балансы 1 клиента перенесены" in done.content.decode()
