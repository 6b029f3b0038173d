"""Safe operations at work: a sale's or a manual adjustment's movements counted against the
merchant's limits (`limits.safe`) inside the booking's own transaction, refused at a hard
threshold, flagged at a soft one (an alert and an outbox event); the patterns of abuse a sale
matched; and the merchant's settings, changed by the owner and audited."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kopilka import numfmt
from kopilka.errors import KopilkaError
from kopilka.merchants.models import AuditAction, Merchant, OutboxEvent
from kopilka.merchants.services import audit_record

from . import safe, sql
from .models import LimitAlert, LimitUsage

ALERT_EVENT = "safe_operations.alert"  # the outbox event of every alert

OPERATION_LABELS = {
    safe.Operation.ACCRUAL: _("Bonus accrual"),
    safe.Operation.PAYMENT: _("Payment with bonuses"),
    safe.Operation.MANUAL_CREDIT: _("Manual credit"),
    safe.Operation.MANUAL_DEBIT: _("Manual debit"),
}
SCOPE_LABELS = {
    safe.Scope.OPERATION: _("in one operation"),
    safe.Scope.CARD: _("per card a day"),
    safe.Scope.REGISTER: _("per register a day"),
    safe.Scope.CASHIER: _("per cashier a day"),
    safe.Scope.STAFF: _("per staff member a day"),
}
PATTERN_LABELS = {
    safe.Pattern.MANY_STORES: _("One card at several stores within minutes"),
    safe.Pattern.CARD_AFTER_ANONYMOUS: _("Anonymous receipts, then one card again and again"),
}


def rule_label(rule: str) -> str:
    """How a limit ("accrual:card") or a pattern ("many_stores") reads on a page."""
    if rule in PATTERN_LABELS:
        return str(PATTERN_LABELS[rule])
    operation, _sep, scope = rule.partition(":")
    try:
        return f"{OPERATION_LABELS[operation]} {SCOPE_LABELS[scope]}"
    except KeyError:
        return rule


class Who(NamedTuple):
    """The people and things behind a movement, kept with its alert."""

    customer_id: int | None = None
    register_id: int | None = None
    cashier: str = ""
    staff_id: int | None = None


class LimitExceeded(KopilkaError):
    code = "limit_exceeded"
    status = 409
    default_message = _("The operation is over a safe-operations limit.")

    def __init__(self, breach: safe.Breach, who: Who, merchant: Merchant):
        message = gettext(
            "Refused by the safe-operations limit \u201c%(limit)s\u201d: at most %(threshold)s, "
            "with this operation %(total)s. Ask the owner or an administrator."
        ) % {
            "limit": rule_label(breach.limit.name),
            "threshold": numfmt.money(breach.threshold),
            "total": numfmt.money(breach.total),
        }
        super().__init__(
            message,
            limit=breach.limit.name,
            subject=breach.subject,
            threshold=breach.threshold,
            total=breach.total,
            amount=breach.amount,
        )
        self.breach, self.who, self.merchant = breach, who, merchant


def enforce(
    *, merchant: Merchant, uses: list[safe.Use], who: Who, now: datetime, receipt=None
) -> safe.Settings:
    """Count `uses` against the merchant's limits, in the caller's transaction: LimitExceeded
    at a hard threshold (the caller's transaction rolls back, counters included), an alert
    and an outbox event per soft threshold crossed. Returns the settings it judged by."""
    settings = safe.settings_of(merchant.safe_operations)
    counted = {limit.name for limit in settings.day_limits()}
    rows = [
        (f"{use.operation}:{use.scope}", use.subject, use.amount)
        for use in uses
        if use.amount > 0 and f"{use.operation}:{use.scope}" in counted
    ]
    day = now.astimezone(ZoneInfo(merchant.time_zone)).date()  # the merchant's day
    totals = sql.bump_usage(merchant.pk, day, rows) if rows else {}
    breaches = safe.judge(settings, uses, totals)
    refused = [breach for breach in breaches if breach.hard]
    if refused:
        raise LimitExceeded(refused[0], who, merchant)
    _alert(
        merchant,
        [
            _alert_row(merchant, LimitAlert.Kind.SOFT, breach, who, now, receipt, day)
            for breach in breaches
        ],
    )
    return settings


def record_refusal(error: LimitExceeded, *, now: datetime) -> None:
    """The alert of a refused movement, written after its transaction rolled back."""
    row = _alert_row(error.merchant, LimitAlert.Kind.REFUSED, error.breach, error.who, now)
    _alert(error.merchant, [row])


def flag_patterns(*, merchant, matched: list[str], who: Who, now: datetime, receipt) -> None:
    """Alerts for the patterns of abuse a sale matched (`safe.patterns_matched`), once per
    pattern, customer and hour."""
    hour = now.strftime("%Y%m%d%H")
    _alert(
        merchant,
        [
            LimitAlert(
                merchant=merchant,
                created_at=now,
                kind=LimitAlert.Kind.PATTERN,
                rule=pattern,
                subject=str(who.customer_id or ""),
                receipt=receipt,
                customer_id=who.customer_id,
                register_id=who.register_id,
                cashier=who.cashier,
                dedupe_key=f"{merchant.pk}:{pattern}:{who.customer_id}:{hour}",
            )
            for pattern in matched
        ],
    )


def _alert_row(merchant, kind, breach: safe.Breach, who: Who, now, receipt=None, day=None):
    once = kind == LimitAlert.Kind.SOFT and breach.limit.scope != safe.Scope.OPERATION
    return LimitAlert(
        merchant=merchant,
        created_at=now,
        kind=kind,
        rule=breach.limit.name,
        subject=breach.subject,
        amount=breach.amount,
        total=breach.total,
        threshold=breach.threshold,
        receipt=receipt,
        customer_id=who.customer_id,
        register_id=who.register_id,
        cashier=who.cashier,
        staff_id=who.staff_id,
        # A day's threshold is crossed once a day; two racing tills must not flag it twice.
        dedupe_key=f"{merchant.pk}:{breach.limit.name}:{breach.subject}:{day}" if once else None,
    )


def _alert(merchant, alerts: list[LimitAlert]) -> None:
    if not alerts:
        return
    LimitAlert.objects.bulk_create(alerts, ignore_conflicts=True)
    OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(
                merchant=merchant,
                kind=ALERT_EVENT,
                customer_id=alert.customer_id,
                created_at=alert.created_at,
                payload={
                    "kind": alert.kind,
                    "rule": alert.rule,
                    "subject": alert.subject,
                    "amount": alert.amount,
                    "total": alert.total,
                    "threshold": alert.threshold,
                    "receipt_id": alert.receipt_id,
                    "register_id": alert.register_id,
                    "cashier": alert.cashier,
                    "staff_id": alert.staff_id,
                },
                dedupe_key=f"alert:{alert.dedupe_key or uuid.uuid4().hex}",
            )
            for alert in alerts
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def safe_operations_set(*, merchant: Merchant, limits: dict, patterns: safe.Patterns, actor):
    """Save the merchant's limits ({(operation, scope): (soft, hard)}, every one offered) and
    patterns; audited with the old and new values."""
    for (operation, scope), (soft, hard) in limits.items():
        if (operation, scope) not in safe.OFFERED or safe.problems(soft, hard):
            raise ValueError(f"{operation}:{scope}: {soft}, {hard}")
    before = merchant.safe_operations
    merchant.safe_operations = safe.stored_form(limits, patterns)
    merchant.save(update_fields=["safe_operations"])
    audit_record(
        merchant=merchant,
        actor=actor,
        action=AuditAction.SAFE_OPERATIONS_SET,
        obj=merchant,
        data={"before": before, "after": merchant.safe_operations},
    )


class AlertCounts(NamedTuple):
    flagged: int
    refused: int
    patterns: int

    @property
    def total(self) -> int:
        return self.flagged + self.refused + self.patterns


def alert_counts(*, merchant: Merchant, start: datetime, end: datetime) -> AlertCounts:
    """The merchant's safe-operations alerts in [start, end), by kind: the dashboard's figure,
    the same rows the alerts list shows."""
    rows = (
        LimitAlert.objects.filter(merchant=merchant, created_at__gte=start, created_at__lt=end)
        .values_list("kind")
        .annotate(n=Count("id"))
    )
    by_kind = dict(rows)
    return AlertCounts(
        by_kind.get(LimitAlert.Kind.SOFT, 0),
        by_kind.get(LimitAlert.Kind.REFUSED, 0),
        by_kind.get(LimitAlert.Kind.PATTERN, 0),
    )


def sweep_usage(*, now: datetime) -> int:
    """Remove the day counters no limit reads any more (older than two days, so every time
    zone's today and yesterday stay); returns how many went. A step of `kopilka tick`."""
    cutoff = (now - timedelta(days=2)).date()
    deleted, _by_model = LimitUsage.objects.filter(day__lt=cutoff).delete()
    return deleted
