"""A small purchase history computed by hand, shared by the report tests.

Merchant time zone Europe/Moscow (UTC+3), a 5 % bonus program rounding to kopecks:
- Mon 2 March 2026: customer A buys for 1,000.00 (new), an anonymous receipt of 500.00;
- Tue 3 March: A buys for 2,000.00 paying 30.00 with bonuses (loyal);
- Tue 3 March 22:30 UTC, which is Wed 4 March 01:30 in Moscow: B buys for 300.00 (new);
- Wed 4 March: 10.00 taken from A by hand.
"""

import uuid
from datetime import UTC, date, datetime

from django.db import transaction

from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Account
from kopilka.pos.schemas import ConfirmIn
from kopilka.programs import services as programs
from kopilka.sales import services as pos

MON = date(2026, 3, 2)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def build_history(*, merchant, register, make_customer, actor):
    """Book the history through the till's own services; returns the program."""
    program = programs.program_create(
        merchant=merchant, name="Бонусы", actor=actor, accrual_rounding="kopeck"
    )
    programs.accrual_rule_set(program=program, steps=[(0, 5)], actor=actor)
    a, b = make_customer(), make_customer()

    def sell(moment, amount, customer=None, spend=0):
        body = {
            "lines": [{"line_no": 1, "sku": "GOODS", "qty": "1", "unit_price": amount}],
            "spend": spend,
            "external_number": str(uuid.uuid4())[:12],
        }
        if customer is not None:
            body["customer"] = {"id": customer.pk}
        pos.receipt_confirm(
            register=register, key=str(uuid.uuid4()), data=ConfirmIn(**body), now=moment
        )

    sell(at(2, 7), 100000, a)  # 10:00 in Moscow
    sell(at(2, 8), 50000)
    sell(at(3, 9), 200000, a, spend=3000)
    sell(at(3, 22, 30), 30000, b)  # already Wednesday in Moscow
    with transaction.atomic():
        [account] = locks.lock_accounts([Account.objects.get(customer=a).pk])
        ledger.manual_adjust(
            account=account, amount=-1000, actor=actor, reason="test", now=at(4, 12)
        )
    return program
