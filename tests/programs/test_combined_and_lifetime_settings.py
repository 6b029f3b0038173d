"""Program settings of combined programs and of when a bonus's lifetime starts: what the
programs services accept, what they refuse (with a clear message), and what the migration
does to programs made before the setting existed."""

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Lot
from kopilka.programs import services as programs
from kopilka.programs.exceptions import InvalidProgram
from kopilka.programs.models import Program
from kopilka.programs.selectors import to_rules

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def combined(merchant, actor, **fields):
    return programs.program_create(
        merchant=merchant, name="Скидка и бонусы", kind="combined", actor=actor, **fields
    )


def test_a_combined_program_takes_a_discount_level_discounts_and_accrual_rules(merchant, actor):
    program = combined(merchant, actor, fixed_discount_percent=10)
    programs.accrual_rule_set(program=program, steps=[(0, 5)], actor=actor)
    programs.level_create(
        program=program, name="Золото", priority=1, actor=actor, discount_percent=15
    )
    program.refresh_from_db()
    config = to_rules(program)
    assert (config.gives_discount, config.gives_bonuses) == (True, True)
    assert config.fixed_discount_percent == Fraction(10, 100)
    assert [level.discount for level in config.levels] == [Fraction(15, 100)]


def test_a_combined_program_gives_a_fixed_discount_or_discount_steps_not_both(merchant, actor):
    fixed = combined(merchant, actor, fixed_discount_percent=10)
    with translation.override("en"), pytest.raises(InvalidProgram) as refused:
        programs.discount_steps_set(program=fixed, steps=[(300000, 5)], actor=actor)
    with translation.override("en"):
        assert "either a fixed discount or accumulative discount steps" in str(refused.value)
    assert not fixed.discount_steps.exists()

    stepped = combined(merchant, actor)
    programs.discount_steps_set(program=stepped, steps=[(300000, 5)], actor=actor)
    with pytest.raises(InvalidProgram) as refused:
        programs.program_update(program=stepped, actor=actor, fixed_discount_percent=5)
    assert "fixed_discount_percent" in refused.value.details["fields"]


def test_new_programs_count_the_lifetime_from_accrual(merchant, actor):
    program = programs.program_create(merchant=merchant, name="Новая", actor=actor)
    assert program.lifetime_start == Program.LifetimeStart.ACCRUAL
    assert to_rules(program).lifetime_from_accrual is True


def test_a_freeze_as_long_as_a_lifetime_counted_from_accrual_is_refused(merchant, actor):
    with translation.override("en"), pytest.raises(InvalidProgram) as refused:
        programs.program_create(
            merchant=merchant, name="Сгорают", actor=actor, freeze_days=30, lifetime_days=30
        )
    [message] = refused.value.details["fields"]["freeze_days"]
    assert "would burn before they could be spent" in message
    assert "the freeze (30 days) must be shorter than the lifetime (30 days)" in message
    # Counted from the end of the freeze the same figures are fine: usable from day 30 to 60.
    programs.program_create(
        merchant=merchant,
        name="После заморозки",
        actor=actor,
        freeze_days=30,
        lifetime_days=30,
        lifetime_start="freeze_end",
    )


def test_a_levels_own_freeze_counts_too(merchant, actor):
    program = programs.program_create(
        merchant=merchant, name="Уровни", actor=actor, lifetime_days=30
    )
    with translation.override("en"), pytest.raises(InvalidProgram) as refused:
        programs.level_create(
            program=program, name="Медленный", priority=1, actor=actor, freeze_days=45
        )
    assert "freeze_days" in refused.value.details["fields"]

    # From the end of the freeze a 45-day freeze is fine; switching to "from accrual" then
    # would burn that level's bonuses unused, and is refused naming the level.
    program = programs.program_update(program=program, actor=actor, lifetime_start="freeze_end")
    programs.level_create(
        program=program, name="Медленный", priority=1, actor=actor, freeze_days=45
    )
    with translation.override("en"), pytest.raises(InvalidProgram) as refused:
        programs.program_update(program=program, actor=actor, lifetime_start="accrual")
    [message] = refused.value.details["fields"]["lifetime_start"]
    assert message.startswith("Level Медленный:")


def test_changing_when_the_lifetime_counts_never_re_dates_accrued_bonuses(
    merchant, make_customer, actor
):
    program = programs.program_create(
        merchant=merchant,
        name="Бонусы",
        actor=actor,
        freeze_days=7,
        lifetime_days=30,
        lifetime_start="freeze_end",
    )
    account = programs.customer_enrol(customer=make_customer(), program=program, actor=actor)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        entry = ledger.credit(
            account=locked,
            amount=500,
            actor=actor,
            now=T0,
            freeze_days=7,
            lifetime_days=30,
            lifetime_from_accrual=program.lifetime_from_accrual,
        )
    programs.program_update(program=program, actor=actor, lifetime_start="accrual")
    assert Lot.objects.get(pk=entry.lot_id).expires_at == T0 + timedelta(days=37)


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_programs_made_before_it_counting_from_the_end_of_the_freeze(
    merchant,
):
    before, after = (
        ("programs", "0007_archived"),
        (
            "programs",
            "0008_combined_programs_lifetime_start",
        ),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old_apps = executor.loader.project_state([before]).apps
    old = old_apps.get_model("programs", "Program").objects.create(
        merchant_id=merchant.pk, name="Старая", freeze_days=14, lifetime_days=90
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([after])
    migrated = executor.loader.project_state([after]).apps.get_model("programs", "Program")
    assert migrated.objects.get(pk=old.pk).lifetime_start == "freeze_end"
    # Forward to the latest schema, which the model of today needs (later fields).
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert Program.objects.create(merchant=merchant, name="Новая").lifetime_start == "accrual"
