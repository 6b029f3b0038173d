"""The customer list and the customer card on a 1366-pixel screen (a common shop laptop): the
list fits without sideways scrolling, says how many customers match and shows no paging when
one page holds them; the card's buttons fit their boxes."""

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone

from kopilka.customers import services as customers
from kopilka.customers.models import Customer
from tests.conftest import SYSTEM

from .conftest import log_in

LIST = "/admin/customers/customer/"
WIDTH, HEIGHT = 1366, 768


@pytest.fixture
def owner(make_staff):
    return make_staff("owner")


@pytest.fixture
def crowd(make_customer, program):
    """Customers with long names and e-mails, the widest the columns get."""
    made = []
    for n in range(12):
        made.append(
            make_customer(
                first_name=f"Александра{n}",
                last_name="Константинопольская-Верховцева",
                email=f"aleksandra.konstantinopolskaya{n}@example-longdomain.com",
                birthday=datetime.date(1985, 12, 31),
            )
        )
    # The widest figures too: millions of bonuses and roubles, a date in every column.
    Customer.objects.filter(pk__in=[c.pk for c in made]).update(
        last_purchase_at=timezone.now(),
        balance=1_234_567_890,
        purchases_total=98_765_432_100,
        visits=12_345,
        status=Customer.Status.PENDING,
    )
    return made


def _screenshot(page, name: str) -> None:
    folder = os.environ.get("KOPILKA_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name))


def test_the_customer_list_fits_1366_pixels_and_says_how_many(page, owner, crowd):
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    log_in(page, owner, path=f"/admin/login/?next={LIST}")
    page.goto(LIST)
    assert page.locator("#customer-count").inner_text() == "12 покупателей"
    assert page.locator("#customer-pages").count() == 0  # one page holds them all
    _screenshot(page, "backoffice-customers-1366.png")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px of sideways scrolling"
    # Nor does the table scroll sideways inside its own box.
    scrolled = page.evaluate(
        """() => [...document.querySelectorAll('#changelist *')]
            .filter(el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX))
            .map(el => el.scrollWidth - el.clientWidth)
            .filter(extra => extra > 1)"""
    )
    assert scrolled == []
    assert page.get_by_text("9999999999").count() == 0  # no made-up total anywhere


def test_the_customer_card_buttons_fit_their_boxes(page, owner, crowd):
    customer = crowd[0]
    customers.card_issue(customer=customer, kind="virtual", actor=SYSTEM)
    customers.card_issue(customer=customer, kind="plastic", number="2900000000017", actor=SYSTEM)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    log_in(page, owner, path=f"/admin/login/?next={LIST}{customer.pk}/card/")
    page.goto(f"{LIST}{customer.pk}/card/")
    misfits = page.evaluate(
        """() => [...document.querySelectorAll(
                '#customer-card button, #customer-card summary, #customer-card a.rounded-default')]
            .filter(el => el.offsetParent !== null)
            .map(el => {
                const box = el.closest('section') || document.querySelector('#customer-card');
                const b = el.getBoundingClientRect(), s = box.getBoundingClientRect();
                const spills = el.scrollWidth > el.clientWidth + 1
                    || el.scrollHeight > el.clientHeight + 1;
                const outside = b.left < s.left - 1 || b.right > s.right + 1;
                return (spills || outside) ? el.innerText.trim() : null;
            })
            .filter(Boolean)"""
    )
    _screenshot(page, "backoffice-customer-card-1366.png")
    assert misfits == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
