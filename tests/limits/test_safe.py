"""The safe operations' rule, pure: which limits a merchant has, and which ones a movement
crosses."""

from hypothesis import given
from hypothesis import strategies as st

from kopilka.limits import safe
from kopilka.limits.safe import Operation, Scope, Use


def settings_with(**limits):
    """Settings with only the given limits ("accrual_card": (soft, hard)) and no patterns."""
    stored = {
        f"{operation}:{scope}": {"soft": None, "hard": None} for operation, scope in safe.OFFERED
    }
    for name, (soft, hard) in limits.items():
        operation, scope = name.rsplit("_", 1)
        stored[f"{operation}:{scope}"] = {"soft": soft, "hard": hard}
    return safe.settings_of(stored)


def test_a_merchant_that_set_nothing_gets_the_soft_defaults_and_no_refusal():
    settings = safe.settings_of({})
    assert {(limit.operation, limit.scope) for limit in settings.limits} == set(safe.DEFAULTS)
    assert all(limit.hard is None for limit in settings.limits)


def test_a_saved_choice_is_read_back_as_saved_and_empty_switches_a_limit_off():
    limits = {pair: (None, None) for pair in safe.OFFERED}
    limits[(Operation.ACCRUAL, Scope.CARD)] = (100_00, 500_00)
    settings = safe.settings_of(safe.stored_form(limits, safe.Patterns(stores=0)))
    assert settings.limits == (safe.Limit(Operation.ACCRUAL, Scope.CARD, 100_00, 500_00),)
    assert settings.patterns.stores == 0
    assert settings.patterns.anonymous == safe.Patterns().anonymous


def test_a_day_total_over_the_hard_threshold_is_refused():
    settings = settings_with(accrual_card=(100_00, 500_00))
    use = Use(Operation.ACCRUAL, Scope.CARD, "7", 200_00)
    [breach] = safe.judge(settings, [use], {("accrual:card", "7"): 600_00})
    assert breach.hard and breach.threshold == 500_00 and breach.total == 600_00


def test_a_day_total_that_crosses_the_soft_threshold_is_flagged_once():
    settings = settings_with(accrual_card=(100_00, None))
    use = Use(Operation.ACCRUAL, Scope.CARD, "7", 60_00)
    crossing = safe.judge(settings, [use], {("accrual:card", "7"): 120_00})
    after = safe.judge(settings, [use], {("accrual:card", "7"): 180_00})
    assert [b.hard for b in crossing] == [False] and after == []


def test_every_single_operation_over_its_soft_threshold_is_flagged():
    settings = settings_with(manual_credit_operation=(1_000_00, None))
    use = Use(Operation.MANUAL_CREDIT, Scope.OPERATION, "", 1_500_00)
    assert len(safe.judge(settings, [use, use], {})) == 2


def test_a_limit_of_another_operation_or_scope_is_not_crossed():
    settings = settings_with(payment_card=(1, 2))
    use = Use(Operation.ACCRUAL, Scope.CARD, "7", 10_000_00)
    assert safe.judge(settings, [use], {("accrual:card", "7"): 10_000_00}) == []


def test_thresholds_must_be_positive_bounded_and_soft_below_hard():
    assert safe.problems(100, 200) is None and safe.problems(None, 5) is None
    assert safe.problems(200, 200) == "order"
    assert safe.problems(0, None) == "range"
    assert safe.problems(None, safe.MAX_THRESHOLD + 1) == "range"


def test_a_sale_counts_its_accrual_and_payment_per_card_register_and_cashier():
    uses = safe.sale_uses(accrued=50_00, spent=0, customer_id=3, register_id=9, cashier="Анна")
    assert {(u.scope, u.subject) for u in uses} == {
        (Scope.OPERATION, ""),
        (Scope.CARD, "3"),
        (Scope.REGISTER, "9"),
        (Scope.CASHIER, "Анна"),
    }
    assert {u.operation for u in uses} == {Operation.ACCRUAL}


def test_a_manual_debit_counts_as_a_debit_of_its_size():
    uses = safe.adjustment_uses(amount=-300_00, customer_id=3, staff_id=5)
    assert {(u.operation, u.scope, u.amount) for u in uses} == {
        (Operation.MANUAL_DEBIT, Scope.OPERATION, 300_00),
        (Operation.MANUAL_DEBIT, Scope.CARD, 300_00),
        (Operation.MANUAL_DEBIT, Scope.STAFF, 300_00),
    }


def test_a_card_at_three_stores_within_the_window_is_a_pattern():
    patterns = safe.Patterns(stores=3)
    assert safe.patterns_matched(patterns, stores=3, anonymous=0, card_sales=1) == [
        safe.Pattern.MANY_STORES
    ]
    assert safe.patterns_matched(patterns, stores=2, anonymous=0, card_sales=1) == []


def test_anonymous_sales_then_the_same_card_twice_at_one_register_is_a_pattern():
    patterns = safe.Patterns(stores=0, anonymous=5)
    match = safe.patterns_matched(patterns, stores=1, anonymous=5, card_sales=2)
    assert match == [safe.Pattern.CARD_AFTER_ANONYMOUS]
    assert safe.patterns_matched(patterns, stores=1, anonymous=5, card_sales=1) == []
    assert safe.patterns_matched(patterns, stores=1, anonymous=4, card_sales=2) == []


amounts = st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=30)


@given(amounts, st.integers(min_value=1, max_value=10**10))
def test_no_accepted_day_ever_ends_above_the_hard_threshold(movements, hard):
    """Movements judged one after another, as the counters see them: the accepted ones never
    add up to more than the hard threshold, and a refused one is refused because it would."""
    settings = settings_with(payment_register=(None, hard))
    total = 0
    for amount in movements:
        use = Use(Operation.PAYMENT, Scope.REGISTER, "1", amount)
        refused = safe.judge(settings, [use], {("payment:register", "1"): total + amount})
        if refused:
            assert total + amount > hard
        else:
            total += amount
        assert total <= hard


@given(amounts, st.integers(min_value=1, max_value=10**10))
def test_a_day_is_flagged_at_most_once_and_exactly_when_it_passes_the_soft_threshold(
    movements, soft
):
    settings = settings_with(accrual_cashier=(soft, None))
    total, flags = 0, 0
    for amount in movements:
        use = Use(Operation.ACCRUAL, Scope.CASHIER, "Анна", amount)
        total += amount
        flags += len(safe.judge(settings, [use], {("accrual:cashier", "Анна"): total}))
    assert flags == (1 if total > soft else 0)
