"""The audit trail speaks one vocabulary: AuditAction. Its stored values are the strings the
trail always had, and each has a label in the back office's languages."""

import pytest
from django.utils import translation

from kopilka.merchants import services
from kopilka.merchants.models import AuditAction, AuditEvent


def test_an_audit_row_stores_the_same_string_the_trail_always_had(merchant, actor):
    services.store_create(merchant=merchant, name="Second shop", actor=actor)
    event = AuditEvent.objects.filter(merchant=merchant).latest("pk")
    assert event.action == "store.create" == AuditAction.STORE_CREATE
    assert AuditEvent.objects.filter(action=AuditAction.STORE_CREATE).count() >= 1


def test_an_action_outside_the_enum_is_refused(merchant, actor):
    with pytest.raises(ValueError):
        services.audit_record(merchant=merchant, actor=actor, action="store.smash", obj=merchant)


def test_every_action_has_a_label_in_russian_and_ukrainian():
    with translation.override("en"):
        english = {action: str(action.label) for action in AuditAction}
    for language in ("ru", "uk"):
        with translation.override(language):
            untranslated = [a.value for a in AuditAction if str(a.label) == english[a]]
        assert untranslated == [], language


def test_the_audit_list_shows_an_action_by_its_label(merchant, actor):
    services.store_create(merchant=merchant, name="Second shop", actor=actor)
    event = AuditEvent.objects.filter(merchant=merchant).latest("pk")
    with translation.override("en"):
        assert event.get_action_display() == "store created"
