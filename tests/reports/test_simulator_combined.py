"""The simulator replays combined programs (a discount and bonuses on one receipt): as the
current program, exactly as the till booked them, and as an alternative to compare."""

import pytest

from kopilka.programs import services as programs
from kopilka.reports.simulator import combined_scenario, current_scenario, simulate
from kopilka.sales.models import Receipt

from .test_simulator import END, START, _program, _receipts


@pytest.fixture
def combined_history(merchant, register, make_customer, actor):
    """The history of tests/reports/test_simulator.py, booked in a combined program: 10 % off,
    then 10 % bonuses on the rest, half of it payable by bonuses."""
    program = programs.program_create(
        merchant=merchant,
        name="Скидка и бонусы",
        kind="combined",
        fixed_discount_percent=10,
        actor=actor,
        accrual_rounding="kopeck",
        max_share_percent=50,
        freeze_days=1,
        lifetime_days=30,
        welcome_bonus=20000,
        welcome_lifetime_days=60,
    )
    programs.accrual_rule_set(program=program, steps=[(0, 10)], actor=actor)
    _receipts(program, register, make_customer, actor)
    return program


def test_a_combined_program_as_the_current_program_replays_what_the_till_booked(
    merchant, combined_history
):
    [result] = simulate(
        merchant=merchant,
        start=START,
        end=END,
        scenarios=[current_scenario(combined_history)],
        details=True,
    ).results
    real = {r.pk: r for r in Receipt.objects.filter(occurred_at__gte=START)}
    replayed = {d.receipt_id: d for d in result.details}
    assert set(replayed) == set(real)
    for receipt_id, receipt in real.items():
        figures = replayed[receipt_id]
        assert (figures.discount, figures.bonus_spent, figures.accrual) == (
            receipt.discount,
            receipt.bonus_spent,
            receipt.accrued,
        ), receipt.external_number
    s1 = real[Receipt.objects.get(external_number="S-1").pk]
    # S-1: 500.00 - 10 % = 450.00; 100.00 paid with bonuses; 10 % of the 350.00 left.
    assert (s1.discount, s1.bonus_spent, s1.accrued) == (5000, 10000, 3500)
    s2 = real[Receipt.objects.get(external_number="S-2").pk]
    # S-2, anonymous: the discount (15.00 of 150.00) and no bonuses.
    assert (s2.discount, s2.accrued) == (1500, 0)
    assert result.discount > 0 and result.accrued > 0 and result.spent > 0


def test_a_combined_alternative_gives_the_hand_computed_figures(
    merchant, register, make_customer, actor
):
    # The real history is booked in test_simulator.py's bonus program (10 % bonuses).
    _receipts(_program(merchant, actor, False), register, make_customer, actor)
    scenario = combined_scenario(
        discount_percent=3, percent=5, max_share_percent=30, whole_bonuses=False, name="3+5"
    )
    [result] = simulate(
        merchant=merchant, start=START, end=END, scenarios=[scenario], details=True
    ).results
    figures = {d.receipt_id: d for d in result.details}

    def replayed(number):
        d = figures[Receipt.objects.get(external_number=number).pk]
        return (d.discount, d.bonus_spent, d.accrual)

    # S-1: 500.00 - 3 % = 485.00; Анна asks to pay 100.00 with bonuses, under the cap of
    # 30 % of 485.00 = 145.50 and her 210.00 (welcome 200.00 + 10.00 accrued on P-1);
    # she earns 5 % of 385.00 = 19.25.
    assert replayed("S-1") == (1500, 10000, 1925)
    # S-2, anonymous: 3 % of 150.00 off, nothing else.
    assert replayed("S-2") == (450, 0, 0)
