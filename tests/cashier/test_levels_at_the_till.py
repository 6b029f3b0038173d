"""The till with levels: once a program has a level, identifying a customer still works and
shows the level held and the way to the next, the same figures the API's quote gives."""

from kopilka.programs import services as programs

from .conftest import receipt_form


def test_identifying_works_once_the_program_has_a_level_with_only_a_name(
    cashier, funded_customer, bonus_program, actor
):
    programs.level_create(program=bonus_program, name="Базовый", priority=1, actor=actor)
    response = cashier.post("/cashier/identify/", {"q": "+7 916 123 45 67", **receipt_form()})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="customer-level">Базовый<' in page


def test_the_till_shows_how_much_more_to_spend_for_the_next_level(
    cashier, funded_customer, bonus_program, actor
):
    programs.level_create(program=bonus_program, name="Базовый", priority=1, actor=actor)
    programs.level_create(
        program=bonus_program, name="Золотой", priority=2, min_spend=1_000_00, actor=actor
    )
    response = cashier.post("/cashier/identify/", {"q": "2000000000017", **receipt_form()})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="customer-level">Базовый<' in page
    # Nothing bought yet: the whole 1,000.00 threshold is still ahead.
    assert "1,000.00 more to Золотой" in page
