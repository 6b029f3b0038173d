"""How the cashier screen words the engine's reasons."""

from django.utils import translation

from kopilka.cashier.templatetags.cashier import reason_text


def test_the_burn_date_of_the_receipts_bonuses_reads_as_a_date_in_the_cashiers_language():
    reason = {
        "code": "accrual_expires",
        "source": "program:1",
        "value": "2026-08-30T12:00:00+00:00",
    }
    with translation.override("ru"):
        assert reason_text(reason) == "Бонусы за этот чек сгорят 30.08.2026."
    with translation.override("uk"):
        assert reason_text(reason) == "Бонуси за цей чек згорять 30.08.2026."
