"""Many customers join or leave a group in one go (the back office's filtered list), only the
group's merchant's and never the anonymised, with an audit row each time."""

from kopilka.customers import services
from kopilka.customers.models import Customer
from kopilka.merchants.models import AuditEvent
from tests.conftest import SYSTEM


def members(group) -> set[int]:
    return set(group.customers.values_list("pk", flat=True))


def test_the_customers_of_a_queryset_join_the_group_once(merchant, make_customer, monkeypatch):
    monkeypatch.setattr(services, "GROUP_BATCH", 2)  # several batches
    group = services.group_create(merchant=merchant, name="VIP", actor=SYSTEM)
    customers = [make_customer() for _ in range(5)]
    already = customers[0]
    services.customer_set_groups(customer=already, groups=[group], actor=SYSTEM)

    added = services.group_add_customers(
        group=group, customers=Customer.objects.all(), actor=SYSTEM, reason="Лучшие клиенты"
    )

    assert added == 4  # the member already is not counted again
    assert members(group) == {c.pk for c in customers}
    event = AuditEvent.objects.get(action="group.add_customers")
    assert (event.reason, event.data) == ("Лучшие клиенты", {"added": 4})


def test_other_merchants_and_anonymised_customers_are_left_out(
    merchant, other_merchant, make_customer
):
    group = services.group_create(merchant=merchant, name="VIP", actor=SYSTEM)
    ours, gone = make_customer(), make_customer()
    services.customer_anonymise(customer=gone, actor=SYSTEM, reason="просьба клиента")
    theirs = make_customer(merchant=other_merchant)

    added = services.group_add_customers(
        group=group, customers=[ours.pk, gone.pk, theirs.pk], actor=SYSTEM
    )

    assert (added, members(group)) == (1, {ours.pk})


def test_the_customers_of_a_queryset_leave_the_group(merchant, make_customer):
    group = services.group_create(merchant=merchant, name="VIP", actor=SYSTEM)
    leaving, staying = make_customer(), make_customer()
    services.group_add_customers(group=group, customers=[leaving.pk, staying.pk], actor=SYSTEM)

    removed = services.group_remove_customers(
        group=group, customers=Customer.objects.filter(pk=leaving.pk), actor=SYSTEM
    )

    assert (removed, members(group)) == (1, {staying.pk})
    assert AuditEvent.objects.get(action="group.remove_customers").data == {"removed": 1}
