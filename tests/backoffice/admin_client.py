"""Helpers for driving the back office through Django's test client: staff of each role and
the form data a browser would post back from a change page."""

from __future__ import annotations

from datetime import date, datetime, time

from django import forms

from kopilka.backoffice.rows import RowsWidget
from kopilka.merchants import services as merchants
from tests.conftest import SYSTEM


def staff_user(merchant, role: str, username: str | None = None):
    return merchants.staff_create(
        merchant=merchant,
        username=username or f"{role}-{merchant.pk}",
        password="a-long-test-password",
        role=role,
        actor=SYSTEM,
    ).user


def page_form_data(response) -> dict:
    """What submitting the change page as it was rendered would post: the main form, every
    inline formset's management form and rows."""
    context = response.context
    shown = [context["adminform"].form]
    for inline in context.get("inline_admin_formsets", []):
        shown.append(inline.formset.management_form)
        shown.extend(inline.formset.forms)
    data: dict = {}
    for form in shown:
        data.update(form_data(form))
    return data


def form_data(form) -> dict:
    """What submitting one form as it was rendered would post."""
    data: dict = {}
    for name, field in form.fields.items():
        data.update(_field_data(form[name], field))
    return data


def _field_data(bound, field) -> dict:
    key = bound.html_name
    value = bound.value()  # already in the form's own representation
    widget = getattr(field.widget, "widget", field.widget)  # RelatedFieldWidgetWrapper
    if isinstance(widget, RowsWidget):
        return rows_data(key, widget._shown(value))
    if isinstance(widget, forms.MultiWidget):
        parts = value if isinstance(value, list | tuple) else widget.decompress(value)
        return {f"{key}_{i}": _text(part) for i, part in enumerate(parts) if part is not None}
    if isinstance(field, forms.NullBooleanField):
        return {key: widget.format_value(value)}
    if isinstance(field, forms.BooleanField):
        return {key: "on"} if value else {}
    if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        return {key: [_text(v) for v in value or []]}
    return {key: "" if value is None else _text(value)}


def rows_data(key: str, rows: list[dict]) -> dict:
    """What a rows field (backoffice.rows) posts for these rows of typed text."""
    data = {f"{key}-rows": str(len(rows))}
    for i, row in enumerate(rows):
        data.update({f"{key}-{i}-{column}": text for column, text in row.items()})
    return data


def _text(value) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if hasattr(value, "pk"):
        return str(value.pk)
    return str(value)
