"""Issue 16: money typed in the back office reads the way the back office prints it. A shop
owner copies "5 000,00 ₽" from a page (the spaces between thousands are no-break spaces,
U+00A0, or narrow ones, U+202F, from other programs) into a money field: it is 5,000 roubles,
not an error. Garbage is still refused, with a message in the owner's language."""

import pytest
from django import forms
from django.utils import translation

from kopilka.backoffice.formatting import MoneyField
from kopilka.merchants.models import Role
from kopilka.programs.models import Campaign

from .admin_client import page_form_data, staff_user

NB, NNB = "\u00a0", "\u202f"


@pytest.mark.parametrize(
    ("language", "typed", "kopecks"),
    [
        ("ru", "5 000,00", 500000),
        ("ru", f"5{NB}000,00", 500000),
        ("ru", f"5{NNB}000,00", 500000),
        ("ru", f"5{NB}000,00{NB}₽", 500000),
        ("uk", f"1{NB}234{NB}567,89{NB}₴", 123456789),
        ("uk", "89,9", 8990),
        ("ru", "89.90", 8990),
        ("ru", "1 200", 120000),
        ("en", "5,000.00", 500000),
        ("en", "₽5,000.00", 500000),
        ("en", "12.5", 1250),
    ],
)
def test_a_money_field_reads_amounts_as_the_back_office_prints_them(language, typed, kopecks):
    with translation.override(language):
        assert MoneyField().clean(typed) == kopecks


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("ru", f"Введите сумму, например 1{NB}234,50."),
        ("uk", f"Введіть суму, наприклад 1{NB}234,50."),
        ("en", "Enter an amount, for example 1,234.50."),
    ],
)
@pytest.mark.parametrize("typed", ["5 00", "12a", "1.2.3", "₽", "1e5", "5,0,0"])
def test_a_money_field_refuses_garbage_in_the_owners_language(language, message, typed):
    with translation.override(language), pytest.raises(forms.ValidationError) as refused:
        MoneyField().clean(typed)
    assert refused.value.messages == [message]


@pytest.mark.parametrize("typed", ["5,001", "-5", "−5,00"])
def test_a_money_field_keeps_refusing_a_third_decimal_and_a_negative_amount(typed):
    with translation.override("ru"), pytest.raises(forms.ValidationError):
        MoneyField().clean(typed)


@pytest.fixture
def owner(client, merchant):
    client.force_login(staff_user(merchant, Role.OWNER))
    return client


def test_a_campaigns_bonus_typed_as_the_page_prints_money_is_saved(owner, merchant):
    data = page_form_data(owner.get("/admin/programs/campaign/add/"))
    data.update(_save="1", name="Бонус к празднику", kind="fixed_bonus", bonus=f"5{NB}000,00 ₽")
    response = owner.post("/admin/programs/campaign/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Campaign.objects.get(name="Бонус к празднику").bonus == 500000


def test_a_campaigns_bonus_that_is_not_an_amount_is_refused_on_its_field(owner, merchant):
    data = page_form_data(owner.get("/admin/programs/campaign/add/"))
    data.update(_save="1", name="Бонус к празднику", kind="fixed_bonus", bonus="5 00")
    response = owner.post("/admin/programs/campaign/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["bonus"] == [
        f"Введите сумму, например 1{NB}234,50."
    ]
    assert not Campaign.objects.filter(name="Бонус к празднику").exists()
