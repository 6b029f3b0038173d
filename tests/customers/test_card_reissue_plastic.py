"""Reissuing onto a new plastic card: the printed number and its printed secret code, the
old card's type kept, the balance untouched, a number in use refused with nothing changed."""

import pytest

from kopilka.customers.cards import card_secret_verify
from kopilka.customers.exceptions import DuplicateCard
from kopilka.customers.models import Card
from kopilka.customers.services import card_issue, card_reissue


def test_a_reissue_takes_the_secret_code_printed_on_the_new_plastic_card(
    customer_with_points, ledger_snapshot, actor
):
    old, _ = card_issue(customer=customer_with_points, kind="plastic", number="1111", actor=actor)
    before = ledger_snapshot(customer_with_points)
    new, generated = card_reissue(card=old, actor=actor, new_number="2222", secret=" 9876 ")
    assert generated is None
    assert (new.kind, new.number) == (Card.Kind.PLASTIC, "2222")
    assert card_secret_verify(card=new, secret="9876")
    assert ledger_snapshot(customer_with_points) == before != []


def test_a_reissue_onto_a_number_in_use_keeps_the_old_card(
    customer_with_points, make_customer, actor
):
    old, _ = card_issue(customer=customer_with_points, kind="plastic", number="1111", actor=actor)
    card_issue(customer=make_customer(), kind="plastic", number="2222", actor=actor)
    with pytest.raises(DuplicateCard):
        card_reissue(card=old, actor=actor, new_number="2222", secret="9876")
    old.refresh_from_db()
    assert old.status == Card.Status.ACTIVE and old.replaced_by is None
    assert customer_with_points.cards.count() == 1
