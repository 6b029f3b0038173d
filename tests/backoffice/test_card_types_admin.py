"""Card types in the back office: renamed and re-prefixed through the service (audited), and
cards moved to another type by a list action, balances following the customers."""

import pytest
from django.db import transaction
from django.utils import timezone

from kopilka.customers import card_types
from kopilka.customers.models import Card
from kopilka.customers.services import card_issue
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Account
from kopilka.ledger.selectors import account_balance
from kopilka.ledger.verify import verify_ledger
from kopilka.merchants.models import AuditEvent, Role
from kopilka.programs import services as programs
from tests.conftest import SYSTEM

from .admin_client import page_form_data, staff_user

TYPES = "/admin/customers/cardtype/"
CUSTOMERS = "/admin/customers/customer/"


@pytest.fixture
def owner(client, merchant):
    client.force_login(staff_user(merchant, Role.OWNER))
    return client


@pytest.fixture
def silver(merchant):
    program = programs.program_create(merchant=merchant, name="Серебро", actor=SYSTEM)
    return card_types.card_type_create(
        merchant=merchant, name="Серебряные", program=program, actor=SYSTEM
    )


@pytest.fixture
def gold(merchant, silver):
    program = programs.program_create(merchant=merchant, name="Золото", actor=SYSTEM)
    return card_types.card_type_create(
        merchant=merchant, name="Золотые", program=program, actor=SYSTEM
    )


@pytest.fixture
def holder(make_customer, silver):
    """A customer with a silver plastic card and 500.00 of bonuses in the silver program."""
    numbers = iter(range(7000, 8000))

    def make():
        customer = make_customer()
        card_issue(
            customer=customer,
            kind=Card.Kind.PLASTIC,
            number=str(next(numbers)),
            actor=SYSTEM,
            card_type=silver,
        )
        account = ledger.account_open(customer=customer, program=silver.program, actor=SYSTEM)
        with transaction.atomic():
            [locked] = locks.lock_accounts([account.pk])
            ledger.credit(account=locked, amount=50000, actor=SYSTEM)
        return customer

    return make


def available(customer, card_type):
    account = Account.objects.filter(customer=customer, program=card_type.program).first()
    return account_balance(account, now=timezone.now()).available if account else 0


def test_an_owner_renames_a_card_type_and_changes_its_prefix_but_not_its_program(
    owner, silver, gold
):
    url = f"{TYPES}{silver.pk}/change/"
    data = page_form_data(owner.get(url))
    assert "program" not in data  # shown, not editable
    data.update(name="Платиновые", number_prefix="2987", program=gold.program.pk, _save="1")

    assert owner.post(url, data).status_code == 302

    silver.refresh_from_db()
    assert (silver.name, silver.number_prefix) == ("Платиновые", "2987")
    assert silver.program.name == "Серебро"
    event = AuditEvent.objects.get(action="card_type.update")
    assert event.data["before"] == {"name": "Серебряные", "number_prefix": ""}
    assert event.data["after"] == {"name": "Платиновые", "number_prefix": "2987"}


@pytest.mark.parametrize(
    "change, field", [({"name": "Золотые"}, None), ({"number_prefix": "12"}, "number_prefix")]
)
def test_a_taken_name_or_a_bad_prefix_is_a_form_error_and_nothing_changes(
    owner, silver, gold, change, field
):
    url = f"{TYPES}{silver.pk}/change/"
    data = {**page_form_data(owner.get(url)), **change, "_save": "1"}
    response = owner.post(url, data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors.get(field) if field else form.errors
    silver.refresh_from_db()
    assert (silver.name, silver.number_prefix) == ("Серебряные", "")
    assert not AuditEvent.objects.filter(action="card_type.update").exists()


def test_moving_a_types_cards_asks_for_the_new_type_and_a_reason_then_moves_balances(
    owner, silver, gold, holder
):
    first, second = holder(), holder()
    chosen = {"action": "move_cards", "_selected_action": [silver.pk]}

    page = owner.post(TYPES, chosen)
    assert page.status_code == 200
    assert "Серебряные" in page.content.decode()
    assert available(first, gold) == 0  # asking moved nothing

    refused = owner.post(TYPES, {**chosen, "apply": "1", "to_type": gold.pk, "reason": ""})
    assert refused.status_code == 200 and refused.context["form"].errors["reason"]
    assert available(first, gold) == 0

    done = owner.post(
        TYPES, {**chosen, "apply": "1", "to_type": gold.pk, "reason": "Перевыпуск"}, follow=True
    )

    [message] = [str(m) for m in done.context["messages"]]
    assert "2" in message and "Золотые" in message and "1000" in message.replace("\xa0", "")
    for customer in (first, second):
        assert available(customer, gold) == 50000
        assert available(customer, silver) == 0
        assert customer.cards.get().card_type == gold
    event = AuditEvent.objects.get(action="card_type.move_cards")
    assert event.reason == "Перевыпуск" and event.data["balances_moved"] == 2
    assert verify_ledger() == []


def test_the_customer_list_moves_the_cards_of_the_customers_it_shows(owner, silver, gold, holder):
    chosen, other = holder(), holder()
    listed = owner.get(CUSTOMERS, {"q": chosen.phone})
    assert 'id="move-cards-link"' in listed.content.decode()
    url = f"{CUSTOMERS}move-cards/?q={chosen.phone.replace('+', '%2B')}"
    page = owner.get(url)
    assert page.status_code == 200 and page.context["customers"] == 1

    done = owner.post(url, {"to_type": gold.pk, "reason": "Подарок"})

    assert done.status_code == 302 and done["Location"].startswith(CUSTOMERS + "?q=")
    assert available(chosen, gold) == 50000
    assert (available(other, silver), other.cards.get().card_type) == (50000, silver)
    assert verify_ledger() == []


def test_a_marketer_cannot_move_cards(client, merchant, silver, gold, holder):
    client.force_login(staff_user(merchant, Role.MARKETER))
    customer = holder()
    assert 'id="move-cards-link"' not in client.get(CUSTOMERS).content.decode()
    assert client.get(f"{CUSTOMERS}move-cards/").status_code == 403
    refused = client.post(f"{CUSTOMERS}move-cards/", {"to_type": gold.pk, "reason": "Хочу"})
    assert refused.status_code == 403
    client.post(
        TYPES,
        {
            "action": "move_cards",
            "_selected_action": [silver.pk],
            "apply": "1",
            "to_type": gold.pk,
            "reason": "Хочу",
        },
    )
    assert (available(customer, silver), available(customer, gold)) == (50000, 0)
    assert not AuditEvent.objects.filter(action="card_type.move_cards").exists()
