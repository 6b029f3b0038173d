"""What the sale services answer: the bodies of quotes, receipts, holds and balances
(the POS API's response schemas read them)."""

from __future__ import annotations

from datetime import datetime

from kopilka import rules
from kopilka.ledger.models import Account
from kopilka.ledger.selectors import account_balance
from kopilka.programs.models import Program

from ..models import Receipt


def reason_list(reasons) -> list[dict]:
    return [{"code": r.code, "source": r.source, "value": r.value} for r in reasons]


def balance_body(
    account: Account | None, program: Program | None, now, balance=None
) -> dict | None:
    if account is None or program is None:
        return None
    balance = balance or account_balance(account, now=now)
    return {
        "program_id": program.pk,
        "program": program.name,
        "available": balance.available,
        "pending": balance.pending,
        "held": balance.held,
    }


def outcome_body(outcome: rules.Outcome, customer, program, balance) -> dict:
    return {
        "customer_id": customer.pk if customer else None,
        "program_id": program.pk if program else None,
        "totals": {
            "subtotal": outcome.subtotal,
            "discount": outcome.discount,
            "max_spend": outcome.max_spend,
            "bonus_spent": outcome.bonus_spent,
            "to_pay": outcome.to_pay,
            "accrual": outcome.accrual,
            "campaign_bonus": outcome.campaign_bonus,
            "accrual_available_from": _iso(outcome.accrual_available_from),
            "accrual_expires_at": _iso(outcome.accrual_expires_at),
        },
        "lines": [
            {
                "line_no": o.line_no,
                "amount": o.amount,
                "discount": o.discount,
                "bonus_cap": o.bonus_cap,
                "bonus_spent": o.bonus_spent,
                "accrual": o.accrual,
                "to_pay": o.to_pay,
                "reasons": reason_list(o.reasons),
            }
            for o in outcome.lines
        ],
        "reasons": reason_list(outcome.reasons),
        "campaigns": list(outcome.campaigns_applied),
        "balance": balance,
        "level": _level_body(outcome),
    }


def _level_ref(level) -> dict | None:
    return {"id": level.id, "name": level.name} if level is not None else None


def _level_body(outcome: rules.Outcome) -> dict | None:
    if outcome.level_before is None and outcome.level_after is None:
        return None
    following = outcome.next_level
    return {
        "before": _level_ref(outcome.level_before),
        "after": _level_ref(outcome.level_after),
        "next": {
            "id": following.level_id,
            "name": following.name,
            "spend": following.spend,
            "spend_by_segment": [
                {"segment_id": segment_id, "amount": amount}
                for segment_id, amount in following.spend_by_segment
            ],
            "visits": following.visits,
        }
        if following is not None
        else None,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def receipt_body(receipt: Receipt, body: dict) -> dict:
    return {
        "receipt_id": receipt.pk,
        "external_number": receipt.external_number,
        "status": receipt.status,
        "offline": receipt.offline,
        **body,
    }


def state_body(receipt: Receipt, account: Account, now) -> dict:
    return {
        "receipt_id": receipt.pk,
        "external_number": receipt.external_number,
        "status": receipt.status,
        "bonus_spent": receipt.bonus_spent if receipt.status == Receipt.Status.CONFIRMED else 0,
        "accrued": receipt.accrued if receipt.status == Receipt.Status.CONFIRMED else 0,
        "balance": balance_body(account, receipt.program, now),
    }
