"""Birthday bonuses: once a year, on the day or within N days around it, in local time."""

from datetime import UTC, date, datetime

from kopilka.ledger.models import Entry
from kopilka.programs import services as programs
from kopilka.programs.birthdays import grant_birthday_bonuses


def birthday_campaign(merchant, actor, **fields):
    return programs.campaign_create(
        merchant=merchant,
        name="С днём рождения",
        kind="birthday",
        bonus=50000,
        bonus_lifetime_days=14,
        actor=actor,
        **fields,
    )


def test_the_bonus_comes_on_the_birthday_in_the_merchants_time_zone_and_once(
    merchant, program, make_customer, actor
):
    birthday_campaign(merchant, actor)
    hero = make_customer(birthday=date(1990, 3, 11))
    make_customer(birthday=date(1990, 3, 12))
    # 21:30 UTC on the 10th is already the 11th in Moscow.
    now = datetime(2026, 3, 10, 21, 30, tzinfo=UTC)
    assert grant_birthday_bonuses(now=now) == 1
    assert grant_birthday_bonuses(now=now) == 0
    entry = Entry.objects.get(kind="birthday")
    assert (entry.account.customer, entry.amount) == (hero, 50000)
    assert (entry.lot.expires_at - entry.lot.available_from).days == 14


def test_n_days_around_the_birthday_and_next_year_again(merchant, program, make_customer, actor):
    birthday_campaign(merchant, actor, days_around=3)
    make_customer(birthday=date(1985, 1, 2))
    assert grant_birthday_bonuses(now=datetime(2025, 12, 30, 12, tzinfo=UTC)) == 1
    assert grant_birthday_bonuses(now=datetime(2026, 1, 2, 12, tzinfo=UTC)) == 0
    assert grant_birthday_bonuses(now=datetime(2026, 12, 31, 12, tzinfo=UTC)) == 1


def test_a_29_february_birthday_is_celebrated_on_the_28th_in_common_years(
    merchant, program, make_customer, actor
):
    birthday_campaign(merchant, actor)
    make_customer(birthday=date(2000, 2, 29))
    assert grant_birthday_bonuses(now=datetime(2027, 2, 28, 12, tzinfo=UTC)) == 1
