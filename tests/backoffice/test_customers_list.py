"""The back-office customer list: search in any spelling, filters on the kept figures,
sorting, tenancy, and no counting of the whole table."""

import datetime
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kopilka.backoffice.customer_filters import birthday_within
from kopilka.customers import services as customers
from kopilka.customers.models import Customer
from kopilka.merchants.models import Role
from kopilka.programs.models import Level, LevelChange
from tests.conftest import SYSTEM

from .admin_client import staff_user

URL = "/admin/customers/customer/"


@pytest.fixture
def owner_client(client, merchant):
    client.force_login(staff_user(merchant, Role.OWNER))
    return client


def listed(client, **params) -> list[int]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return [row.pk for row in response.context["cl"].result_list]


def with_figures(customer, **figures):
    """Set a customer's kept figures directly: these tests are about the list, the figures'
    upkeep is tested in test_customers_stats."""
    Customer.objects.filter(pk=customer.pk).update(**figures)
    return customer


def test_search_finds_a_customer_by_phone_typed_in_any_format(owner_client, make_customer):
    anna = make_customer(phone="+79161234567", first_name="Анна")
    make_customer(phone="+79160000000")
    for typed in ("8 (916) 123-45-67", "+7 916 1234567", "79161234567"):
        assert listed(owner_client, q=typed) == [anna.pk], typed


def test_search_finds_by_card_number_name_and_email(owner_client, make_customer):
    anna = make_customer(first_name="Анна", last_name="Петрова", email="Anna@Example.com")
    boris = make_customer(first_name="Борис", last_name="Иванов")
    customers.card_issue(customer=boris, kind="plastic", number="2900000000017", actor=SYSTEM)
    assert listed(owner_client, q="2900000000017") == [boris.pk]
    assert listed(owner_client, q="петрова") == [anna.pk]
    assert listed(owner_client, q="anna@example.com") == [anna.pk]


def test_list_shows_only_the_staff_members_merchant(owner_client, make_customer, other_merchant):
    mine = make_customer()
    make_customer(merchant=other_merchant, phone="+79165550000")
    assert listed(owner_client) == [mine.pk]
    assert listed(owner_client, q="+79165550000") == []


def test_not_seen_for_days_lists_customers_whose_last_purchase_is_older(
    owner_client, make_customer
):
    now = timezone.now()
    gone = with_figures(make_customer(), last_purchase_at=now - timedelta(days=45), visits=3)
    with_figures(make_customer(), last_purchase_at=now - timedelta(days=5), visits=1)
    make_customer()  # never bought: no last purchase
    assert listed(owner_client, not_seen_days="30") == [gone.pk]


def test_last_purchase_range_includes_both_days(owner_client, make_customer):
    day = timezone.localdate() - timedelta(days=10)
    evening = timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 30)))
    inside = with_figures(make_customer(), last_purchase_at=evening)
    with_figures(make_customer(), last_purchase_at=evening + timedelta(days=1))
    params = {
        "last_purchase_at_from": day.strftime("%d.%m.%Y"),
        "last_purchase_at_to": day.strftime("%d.%m.%Y"),
    }
    assert listed(owner_client, **params) == [inside.pk]


def test_balance_spent_and_visits_ranges_are_typed_in_bonuses_and_roubles(
    owner_client, make_customer
):
    rich = with_figures(make_customer(), balance=50_000, purchases_total=1_200_000, visits=12)
    with_figures(make_customer(), balance=9_999, purchases_total=1_200_000, visits=12)
    with_figures(make_customer(), balance=60_000, purchases_total=50_000, visits=1)
    assert listed(owner_client, balance_from="100", balance_to="500", spent_from="10000") == [
        rich.pk
    ]
    assert listed(owner_client, visits_from="10", balance_from="100,00") == [rich.pk]


def test_a_range_beyond_any_balance_lists_everyone_or_no_one_instead_of_failing(
    owner_client, make_customer
):
    """10^400 bonuses does not fit the database's integers; 1e999999 not even a Decimal."""
    poor = with_figures(make_customer(), balance=0, purchases_total=0)
    rich = with_figures(make_customer(), balance=2**62, purchases_total=2**62)
    assert sorted(listed(owner_client, balance_to="1e400", spent_from="-1e400")) == sorted(
        [poor.pk, rich.pk]
    )
    assert listed(owner_client, balance_from="1e400") == []
    assert len(listed(owner_client, spent_to="1e999999")) == 2


def test_sorting_by_total_spent_balance_and_last_purchase(owner_client, make_customer):
    now = timezone.now()
    a = with_figures(make_customer(), purchases_total=300, balance=1, last_purchase_at=now)
    b = with_figures(
        make_customer(), purchases_total=100, balance=3, last_purchase_at=now - timedelta(1)
    )
    c = with_figures(
        make_customer(), purchases_total=200, balance=2, last_purchase_at=now - timedelta(2)
    )
    # list_display: 4 = spent, 3 = balance, 6 = last purchase ("-" descending)
    assert listed(owner_client, o="-4") == [a.pk, c.pk, b.pk]
    assert listed(owner_client, o="3") == [a.pk, c.pk, b.pk]
    assert listed(owner_client, o="-6") == [a.pk, b.pk, c.pk]


def test_birthday_month_and_sorting_by_birthday(owner_client, make_customer):
    march = make_customer(birthday=datetime.date(1990, 3, 31))
    early_march = make_customer(birthday=datetime.date(1985, 3, 1))
    make_customer(birthday=datetime.date(1990, 4, 1))
    make_customer()
    assert listed(owner_client, birthday_month="3", o="8") == [early_march.pk, march.pk]


def test_birthday_within_days_wraps_over_the_new_year(make_customer):
    soon = make_customer(birthday=datetime.date(1990, 1, 3))
    tonight = make_customer(birthday=datetime.date(2001, 12, 30))
    make_customer(birthday=datetime.date(1990, 1, 10))
    make_customer(birthday=datetime.date(1990, 12, 1))
    found = Customer.objects.filter(birthday_within(7, datetime.date(2026, 12, 29)))
    assert set(found.values_list("pk", flat=True)) == {soon.pk, tonight.pk}


def test_birthday_within_days_through_the_list(owner_client, make_customer):
    today = timezone.localdate()
    near = make_customer(birthday=(today + timedelta(days=3)).replace(year=1990))
    make_customer(birthday=(today + timedelta(days=40)).replace(year=1990))
    assert listed(owner_client, birthday_within="7") == [near.pk]


def test_group_status_and_consent_filters(owner_client, make_customer, merchant):
    vip = customers.group_create(merchant=merchant, name="VIP", actor=SYSTEM)
    member = make_customer(groups=[vip], marketing_consent=True)
    blocked = make_customer(status=Customer.Status.BLOCKED)
    make_customer()
    assert listed(owner_client, group=str(vip.pk)) == [member.pk]
    assert listed(owner_client, consent="1") == [member.pk]
    assert listed(owner_client, status__exact="blocked") == [blocked.pk]


def test_level_filter_uses_the_level_last_recorded(owner_client, make_customer, program):
    silver = Level.objects.create(program=program, name="Silver", priority=1)
    gold = Level.objects.create(program=program, name="Gold", priority=2, min_spend=100)
    climbed = make_customer()
    fell = make_customer()
    now = timezone.now()
    for customer, steps in ((climbed, [silver, gold]), (fell, [gold, silver])):
        previous = None
        for minutes, level in enumerate(steps):
            LevelChange.objects.create(
                program=program,
                customer=customer,
                from_level=previous,
                to_level=level,
                changed_at=now + timedelta(minutes=minutes),
                reason=LevelChange.Reason.COMPUTED,
            )
            previous = level
    assert listed(owner_client, level=str(gold.pk)) == [climbed.pk]
    response = owner_client.get(URL, {"level": str(silver.pk)})
    assert "Silver" in response.content.decode()


def test_list_pages_without_counting_the_table(owner_client, make_customer):
    for _ in range(3):
        make_customer()
    with CaptureQueriesContext(connection) as queries:
        assert len(listed(owner_client, o="-4", not_seen_days="0")) == 0
        assert len(listed(owner_client)) == 3
        assert len(listed(owner_client, _facets="True", status__exact="active")) == 3
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


def test_change_form_saves_through_the_services_and_refuses_a_taken_phone(
    owner_client, make_customer
):
    make_customer(phone="+79161112233")
    response = owner_client.post(
        f"{URL}add/",
        {"phone": "8 916 111-22-33", "first_name": "Вера"},
    )
    assert response.status_code == 200
    assert "already registered" in response.content.decode() or "уже" in response.content.decode()
    response = owner_client.post(f"{URL}add/", {"phone": "8 916 111-22-44", "first_name": "Вера"})
    assert response.status_code == 302
    vera = Customer.objects.get(phone="+79161112244")
    assert vera.first_name == "Вера"
    assert vera.name_search == "вера"


def test_cards_are_looked_up_by_number_and_lead_to_the_customer_card(
    owner_client, make_customer, other_merchant
):
    anna = make_customer()
    customers.card_issue(customer=anna, kind="plastic", number="2900000000017", actor=SYSTEM)
    stranger = make_customer(merchant=other_merchant, phone="+79165550000")
    customers.card_issue(customer=stranger, kind="plastic", number="2900000000024", actor=SYSTEM)
    response = owner_client.get("/admin/customers/card/", {"q": "2900 0000 0001 7"})
    assert [card.number for card in response.context["cl"].result_list] == ["2900000000017"]
    assert f"/admin/customers/customer/{anna.pk}/card/" in response.content.decode()
    response = owner_client.get("/admin/customers/card/", {"q": "2900000000024"})
    assert list(response.context["cl"].result_list) == []


def test_a_plan_limit_refused_by_the_services_is_shown_not_a_server_error(
    owner_client, make_customer, merchant
):
    make_customer()
    type(merchant).objects.filter(pk=merchant.pk).update(customer_limit=1)
    response = owner_client.post(f"{URL}add/", {"phone": "8 916 111-22-55"}, follow=True)
    assert response.status_code == 200
    assert "plan" in response.content.decode() or "тариф" in response.content.decode()
    assert Customer.objects.count() == 1


def test_rfm_segments_are_ready_filters_and_do_not_overlap(owner_client, make_customer):
    now = timezone.now()

    def customer(days_ago, visits, spent):
        return with_figures(
            make_customer(),
            last_purchase_at=now - timedelta(days=days_ago),
            visits=visits,
            purchases_total=spent,
        )

    champion = customer(3, 8, 50000)
    loyal = customer(60, 4, 40000)
    big = customer(120, 2, 900000)  # 3x the average of all five is 3 x 218,000
    new = customer(10, 1, 1000)
    lost = customer(400, 6, 100000)
    segments = {
        segment: listed(owner_client, rfm=segment)
        for segment in ("champions", "loyal", "big_spenders", "new", "at_risk", "lost")
    }
    assert segments == {
        "champions": [champion.pk],
        "loyal": [loyal.pk],
        "big_spenders": [big.pk],
        "new": [new.pk],
        "at_risk": [],
        "lost": [lost.pk],
    }
