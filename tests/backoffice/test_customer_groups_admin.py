"""The customer list's "Groups" page: the customers the list shows, as filtered and searched,
join or leave a group; people who may not change customers cannot."""

import pytest

from kopilka.customers import services
from kopilka.merchants.models import Role
from tests.conftest import SYSTEM

from .admin_client import staff_user

CUSTOMERS = "/admin/customers/customer/"


@pytest.fixture
def vip(merchant):
    return services.group_create(merchant=merchant, name="VIP", actor=SYSTEM)


def test_a_marketer_puts_the_customers_of_a_search_into_a_group(
    client, merchant, vip, make_customer
):
    client.force_login(staff_user(merchant, Role.MARKETER))
    chosen, other = make_customer(first_name="Анна"), make_customer(first_name="Борис")
    assert 'id="groups-link"' in client.get(CUSTOMERS).content.decode()
    url = f"{CUSTOMERS}groups/?q=Анна"
    page = client.get(url)
    assert page.status_code == 200 and page.context["customers"] == 1

    done = client.post(url, {"group": vip.pk, "operation": "add", "reason": "Акция"}, follow=True)

    assert list(vip.customers.all()) == [chosen]
    assert [str(m) for m in done.context["messages"]] == ["1 клиент добавлен в группу VIP."]
    listed = client.get(CUSTOMERS, {"group": vip.pk})
    assert [c.pk for c in listed.context["cl"].result_list] == [chosen.pk]

    client.post(f"{CUSTOMERS}groups/", {"group": vip.pk, "operation": "remove"})
    assert list(vip.customers.all()) == []
    assert other.groups.count() == 0


def test_another_merchants_group_is_not_a_choice(client, merchant, other_merchant, make_customer):
    client.force_login(staff_user(merchant, Role.ADMIN))
    theirs = services.group_create(merchant=other_merchant, name="Чужая", actor=SYSTEM)
    make_customer()
    page = client.post(f"{CUSTOMERS}groups/", {"group": theirs.pk, "operation": "add"})
    assert page.status_code == 200 and "group" in page.context["form"].errors
    assert theirs.customers.count() == 0


def test_an_auditor_cannot_change_groups(client, merchant, vip, make_customer):
    client.force_login(staff_user(merchant, Role.AUDITOR))
    make_customer()
    assert 'id="groups-link"' not in client.get(CUSTOMERS).content.decode()
    assert client.get(f"{CUSTOMERS}groups/").status_code == 403
    assert (
        client.post(f"{CUSTOMERS}groups/", {"group": vip.pk, "operation": "add"}).status_code == 403
    )
    assert vip.customers.count() == 0
