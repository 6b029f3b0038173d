"""Which merchant a back-office request acts for, and the admin base classes: one scopes every
list, form choice and object lookup to it and shows service errors on the form, the other
keeps service-written rows read-only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from kopilka import hotsql
from kopilka.errors import Conflict, KopilkaError
from kopilka.merchants.actors import Actor
from kopilka.merchants.models import Merchant, StaffMember

_UNSET = object()


def staff_member(request) -> StaffMember | None:
    """The signed-in user's StaffMember (cached on the request), or None."""
    cached = getattr(request, "_kopilka_staff", _UNSET)
    if cached is _UNSET:
        cached = None
        if request.user.is_authenticated:
            cached = (
                StaffMember.objects.select_related("merchant")
                .filter(user_id=request.user.pk)
                .first()
            )
        request._kopilka_staff = cached
    return cached


def request_merchant(request) -> Merchant | None:
    member = staff_member(request)
    return member.merchant if member else None


def request_actor(request) -> Actor:
    return Actor.user(request.user)


class Refusal(PermissionDenied):
    """A refusal the back office explains (kopilka.backoffice.views.permission_denied shows it
    as a page): why it cannot be done, and what to do instead."""

    def __init__(self, why, instead=""):
        super().__init__(why)
        self.why, self.instead = why, instead


def is_platform_operator(request) -> bool:
    """A superuser with no merchant runs the installation and sees every merchant."""
    return request.user.is_superuser and staff_member(request) is None


def _a_key(value) -> bool:
    """Whether a submitted choice could be a row's id: a number no database refuses (a
    larger one makes SQLite raise instead of finding nothing). Other text is left to Django's
    own check, which answers "not one of the choices"."""
    try:
        return abs(int(str(value))) < 2**63
    except ValueError:
        return True


class KeyChoice(forms.ModelChoiceField):
    """A choice of one row whose id, however large, is checked before any query."""

    def to_python(self, value):
        if value not in self.empty_values and not _a_key(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class KeyChoices(forms.ModelMultipleChoiceField):
    """A choice of rows whose ids, however large, are checked before any query."""

    def _check_values(self, value):
        for pk in value:
            if not _a_key(pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class MerchantScopedAdmin(ModelAdmin):
    """A ModelAdmin whose rows belong to one merchant.

    `merchant_path` is the lookup from the model to its Merchant ("merchant",
    "customer__merchant", ...). Staff see and choose only their merchant's rows; a platform
    operator (superuser without a merchant) sees all; anybody else sees nothing.
    """

    merchant_path = "merchant"
    # (why, what to do instead) when this admin's rows are never deleted: its delete page,
    # reached by a typed or old link, says so instead of a bare refusal.
    delete_refusal: tuple | None = None

    def delete_view(self, request, object_id, extra_context=None):
        if self.delete_refusal is not None and not self.has_delete_permission(request):
            raise Refusal(*self.delete_refusal)
        return super().delete_view(request, object_id, extra_context)

    def scope(self, request, queryset, path: str | None = None):
        path = path or self.merchant_path
        if is_platform_operator(request):
            return queryset
        merchant = request_merchant(request)
        if merchant is None:
            return queryset.none()
        return queryset.filter(**{path: merchant.pk})

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", KeyChoice)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _scope_choices(self, request, db_field, field)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", KeyChoices)
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        return _scope_choices(self, request, db_field, field)

    # Saves go through services, which raise typed errors. The admin's own transaction rolls
    # back whatever the failed save wrote; the form is then shown again, as submitted, with
    # the service's message on the field it names (or on the form).

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (KopilkaError, IntegrityError) as error:
            if request.method != "POST" or hasattr(request, "_kopilka_error"):
                raise
            request._kopilka_error = _as_kopilka_error(error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, "_kopilka_error", None)
        if error is None:
            return form
        return type(form.__name__, (form,), {"clean": _clean_showing(error)})

    def run_action(self, request, service, **kwargs):
        """Call a service from a list action; its typed error becomes an error message.
        Returns the service's result, or None when it refused."""
        try:
            return service(actor=request_actor(request), **kwargs)
        except KopilkaError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None


class ScopedInline:
    """For inlines: a relation's choices are the merchant's rows only (as MerchantScopedAdmin
    does for its own form)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", KeyChoice)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _scope_choices(self, request, db_field, field)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", KeyChoices)
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        return _scope_choices(self, request, db_field, field)


def adopt(obj, saved) -> None:
    """Make the admin's unsaved form instance stand for the row a service created, so the
    admin's history entry, message and redirect name the real row."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    hotsql.mark_saved(obj)  # one database: the one `saved` came from


# Why rows the till, the ledger and the audit trail write are not changed by hand, and what to
# do instead.
WRITTEN_BY_KOPILKA = (
    _(
        "These records are written by Kopilka itself (the tills, the ledger, the audit "
        "trail): nobody changes or deletes them by hand."
    ),
    _("To correct a customer's points, credit or debit them on the customer card."),
)


class ReadOnlyAdmin(MerchantScopedAdmin):
    """Rows that only services write (ledger, receipts, audit): listed and shown, never edited
    here, whatever the user's permissions say."""

    delete_refusal = WRITTEN_BY_KOPILKA

    def add_view(self, request, form_url="", extra_context=None):
        raise Refusal(*self.delete_refusal)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _as_kopilka_error(error: Exception) -> KopilkaError:
    if isinstance(error, KopilkaError):
        return error
    # A unique constraint the form could not check (it involves the merchant, which is not
    # a form field) and the service does not translate.
    return Conflict(_("A record with these values already exists."))


def _clean_showing(error: KopilkaError):
    """A form's clean() that reports the service's error on the fields its details name."""

    def clean(form):
        cleaned = super(type(form), form).clean()
        named = dict(error.details.get("fields") or {})
        if isinstance(error.details.get("field"), str):
            named[error.details["field"]] = error.message
        named.update({key: value for key, value in error.details.items() if key in form.fields})
        shown = False
        for field, problems in named.items():
            if field in form.fields:
                problems = problems if isinstance(problems, list) else [error.message]
                for problem in problems:
                    form.add_error(field, problem)
                shown = True
        if not shown:
            form.add_error(None, error.message)
        return cleaned

    return clean


def _scope_choices(admin, request, db_field, field):
    """Limit a relation's choices to the merchant's rows when the related model has a
    merchant (directly, as Merchant itself, or through a customer)."""
    if field is None or not hasattr(field, "queryset"):
        return field
    related = db_field.related_model
    path = "pk" if related is Merchant else _merchant_path_of(related)
    if path is None or is_platform_operator(request):
        return field
    merchant = request_merchant(request)
    field.queryset = (
        field.queryset.none() if merchant is None else field.queryset.filter(**{path: merchant.pk})
    )
    return field


def _merchant_path_of(model) -> str | None:
    for path in ("merchant", "customer__merchant", "store__merchant", "program__merchant"):
        first = path.split("__", 1)[0]
        try:
            model._meta.get_field(first)
        except FieldDoesNotExist:
            continue
        return path
    return None
