"""Which merchant a back-office request acts for, and the admin base class that scopes every
list, form choice and object lookup to it."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from unfold.admin import ModelAdmin

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


def is_platform_operator(request) -> bool:
    """A superuser with no merchant runs the installation and sees every merchant."""
    return request.user.is_superuser and staff_member(request) is None


class MerchantScopedAdmin(ModelAdmin):
    """A ModelAdmin whose rows belong to one merchant.

    `merchant_path` is the lookup from the model to its Merchant ("merchant",
    "customer__merchant", ...). Staff see and choose only their merchant's rows; a platform
    operator (superuser without a merchant) sees all; anybody else sees nothing.
    """

    merchant_path = "merchant"

    def scope(self, request, queryset, path: str | None = None):
        path = path or self.merchant_path
        if is_platform_operator(request):
            return queryset
        merchant = request_merchant(request)
        if merchant is None:
            return queryset.none()
        return queryset.filter(**{path: merchant})

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _scope_choices(self, request, db_field, field)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        return _scope_choices(self, request, db_field, field)


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
        field.queryset.none() if merchant is None else field.queryset.filter(**{path: merchant})
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
