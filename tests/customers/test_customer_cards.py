import pytest
from hypothesis import given
from hypothesis import strategies as st

from kopilka.customers.cards import (
    card_secret_verify,
    ean13_check_digit,
    generate_virtual_number,
    is_valid_ean13,
    random_virtual_number,
)
from kopilka.customers.exceptions import (
    CardStatusConflict,
    DuplicateCard,
    InvalidCardNumber,
)
from kopilka.customers.models import Card
from kopilka.customers.selectors import card_get_by_number, customer_find
from kopilka.customers.services import (
    card_block,
    card_issue,
    card_regenerate_secret,
    card_reissue,
    customer_register,
)
from kopilka.merchants.models import AuditEvent

twelve_digits = st.text(alphabet="0123456789", min_size=12, max_size=12)


@pytest.mark.parametrize("number", ["4006381333931", "5901234123457", "4600051000057"])
def test_known_ean13_numbers_are_valid(number):
    assert is_valid_ean13(number)
    assert ean13_check_digit(number[:12]) == int(number[12])


@pytest.mark.parametrize("number", ["4006381333932", "400638133393", "40063813339311", "ABC"])
def test_wrong_check_digits_and_lengths_are_invalid(number):
    assert not is_valid_ean13(number)


@given(twelve_digits)
def test_a_number_with_its_check_digit_always_validates(body):
    assert is_valid_ean13(body + str(ean13_check_digit(body)))


@given(twelve_digits, st.integers(0, 12), st.integers(1, 9))
def test_changing_any_single_digit_makes_the_number_invalid(body, position, shift):
    number = body + str(ean13_check_digit(body))
    changed = str((int(number[position]) + shift) % 10)
    assert not is_valid_ean13(number[:position] + changed + number[position + 1 :])


@given(st.integers(0, 2**32))
def test_generated_virtual_numbers_are_valid_in_store_ean13(_draw):
    number = random_virtual_number()
    assert is_valid_ean13(number)
    assert number.startswith("2")


def test_a_virtual_number_is_not_one_the_merchant_already_uses(merchant, make_customer, actor):
    customer = make_customer()
    issued = {
        card_issue(customer=customer, kind="virtual", actor=actor)[0].number for _ in range(5)
    }
    assert len(issued) == 5
    assert generate_virtual_number(merchant) not in issued


def test_a_generated_secret_is_stored_only_as_a_hash_and_verifies(make_customer, actor):
    card, plain = card_issue(customer=make_customer(), kind="virtual", actor=actor)

    assert plain is not None and len(plain) == 6 and plain.isdigit()
    row = Card.objects.filter(pk=card.pk).values().get()
    assert all(plain not in str(value) for value in row.values())
    assert all(plain not in str(e.data) for e in AuditEvent.objects.all())
    card.refresh_from_db()
    assert card_secret_verify(card=card, secret=plain)
    assert not card_secret_verify(card=card, secret="000000" if plain != "000000" else "111111")


def test_a_typed_secret_is_hashed_and_not_returned(make_customer, actor):
    card, plain = card_issue(
        customer=make_customer(),
        kind="plastic",
        number="7700 1234-5678",
        secret=" QR-SECRET-4417 ",
        actor=actor,
    )
    assert plain is None
    assert card.number == "770012345678"
    row = Card.objects.filter(pk=card.pk).values().get()
    assert all("QR-SECRET-4417" not in str(value) for value in row.values())
    assert card_secret_verify(card=card, secret="QR-SECRET-4417")


def test_a_regenerated_secret_replaces_the_old_one(make_customer, actor):
    card, old = card_issue(customer=make_customer(), kind="virtual", actor=actor)
    new = card_regenerate_secret(card=card, actor=actor)
    card.refresh_from_db()
    assert card_secret_verify(card=card, secret=new)
    assert old == new or not card_secret_verify(card=card, secret=old)


def test_a_plastic_card_needs_a_number(make_customer, actor):
    with pytest.raises(InvalidCardNumber):
        card_issue(customer=make_customer(), kind="plastic", actor=actor)


def test_a_card_number_is_unique_per_merchant(make_customer, actor):
    card_issue(customer=make_customer(), kind="plastic", number="1000", actor=actor)
    with pytest.raises(DuplicateCard) as err:
        card_issue(customer=make_customer(), kind="plastic", number="10-00", actor=actor)
    assert err.value.code == "duplicate_card"


def test_registering_with_a_plastic_and_a_virtual_card_attaches_both(merchant, actor):
    customer = customer_register(
        merchant=merchant, actor=actor, phone="89161112233", card_number="555", virtual_card=True
    )
    kinds = sorted(customer.cards.values_list("kind", flat=True))
    assert kinds == ["plastic", "virtual"]
    assert card_get_by_number(merchant=merchant, number="555").customer == customer


def test_a_taken_card_number_rolls_back_the_whole_registration(merchant, make_customer, actor):
    card_issue(customer=make_customer(), kind="plastic", number="555", actor=actor)
    with pytest.raises(DuplicateCard):
        customer_register(merchant=merchant, actor=actor, phone="89161112233", card_number="555")
    assert not merchant.customers.filter(phone="+79161112233").exists()


def test_a_blocked_card_still_finds_its_customer_and_says_it_is_blocked(
    merchant, make_customer, actor
):
    customer = make_customer()
    card, _ = card_issue(customer=customer, kind="plastic", number="4006381333931", actor=actor)
    card_block(card=card, actor=actor, reason="reported stolen")

    [match] = customer_find(merchant=merchant, query="4006381333931")
    assert match.customer == customer
    assert match.matched_by == "card"
    assert match.card.status == Card.Status.BLOCKED


def test_reissue_marks_the_old_card_lost_and_keeps_the_balance(
    merchant, customer_with_points, ledger_snapshot, actor
):
    customer = customer_with_points
    old, _ = card_issue(customer=customer, kind="plastic", number="1111", actor=actor)
    before = ledger_snapshot(customer)

    new, secret = card_reissue(card=old, actor=actor)

    old.refresh_from_db()
    assert old.status == Card.Status.LOST
    assert old.replaced_by == new
    assert new.customer == customer
    assert new.kind == Card.Kind.VIRTUAL and is_valid_ean13(new.number)
    assert card_secret_verify(card=new, secret=secret)
    assert ledger_snapshot(customer) == before != []
    assert customer_find(merchant=merchant, query="1111") == []
    assert customer_find(merchant=merchant, query=new.number)[0].customer == customer


def test_a_plastic_reissue_takes_the_new_printed_number(customer_with_points, actor):
    old, _ = card_issue(customer=customer_with_points, kind="plastic", number="1111", actor=actor)
    new, _ = card_reissue(card=old, actor=actor, new_number="2222")
    assert (new.kind, new.number) == (Card.Kind.PLASTIC, "2222")


def test_a_lost_card_cannot_be_reissued_again_or_blocked(customer_with_points, actor):
    old, _ = card_issue(customer=customer_with_points, kind="virtual", actor=actor)
    card_reissue(card=old, actor=actor)
    with pytest.raises(CardStatusConflict):
        card_reissue(card=old, actor=actor)
    with pytest.raises(CardStatusConflict):
        card_block(card=old, actor=actor)
