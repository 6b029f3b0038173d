"""Admin of the merchants app (scoped to the staff user's merchant): the merchant's settings,
stores, registers and their API keys, staff, and the audit trail (read-only)."""

from __future__ import annotations

from zoneinfo import available_timezones

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminPasswordWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
)

from kopilka.merchants import services
from kopilka.merchants.models import AuditEvent, Merchant, Register, Role, StaffMember, Store

from .actor_columns import ShowsActors
from .scoping import (
    MerchantScopedAdmin,
    ReadOnlyAdmin,
    adopt,
    is_platform_operator,
    request_actor,
    request_merchant,
    staff_member,
)

PLAN_FIELDS = ("plan_name", "customer_limit")


def _changed(form, names) -> dict:
    return {name: form.cleaned_data[name] for name in names if name in form.changed_data}


@admin.register(Merchant)
class MerchantAdmin(MerchantScopedAdmin):
    """An owner or admin edits their merchant's settings; its plan (billing) is the platform
    operator's."""

    merchant_path = "pk"
    fields = [
        "name",
        "currency",
        "time_zone",
        "phone_region",
        "language",
        "expiry_reminders",
        *PLAN_FIELDS,
    ]
    list_display = ["name", "currency", "time_zone", "plan_name", "customer_limit"]
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return () if is_platform_operator(request) else PLAN_FIELDS

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "time_zone":
            return forms.ChoiceField(
                label=db_field.verbose_name,
                choices=[(zone, zone) for zone in sorted(available_timezones())],
                widget=UnfoldAdminSelectWidget,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return is_platform_operator(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        editable = [name for name in self.fields if name in form.fields]
        if change:
            services.merchant_update(
                merchant=obj, actor=request_actor(request), **_changed(form, editable)
            )
            return
        data = {name: form.cleaned_data[name] for name in editable}
        adopt(obj, services.merchant_create(actor=request_actor(request), **data))


@admin.register(Store)
class StoreAdmin(MerchantScopedAdmin):
    fields = ["name", "address", "accepts_bonus_payment", "is_active"]
    list_display = ["name", "address", "accepts_bonus_payment", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "address"]
    actions = None

    delete_refusal = (
        _("Stores are never deleted: receipts name them."),
        _("Untick Active on its page and save instead."),
    )

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            services.store_update(
                store=obj, actor=request_actor(request), **_changed(form, self.fields)
            )
            return
        data = form.cleaned_data
        created = services.store_create(
            merchant=request_merchant(request),
            actor=request_actor(request),
            **{name: data[name] for name in self.fields},
        )
        adopt(obj, created)


@admin.register(Register)
class RegisterAdmin(MerchantScopedAdmin):
    """Tills. API keys are issued and revoked by list actions; a new key is shown once."""

    list_display = ["name", "store", "key_prefix", "key_issued_at", "is_active"]
    list_filter = ["is_active", ("store", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "store__name"]
    list_select_related = ["store"]
    actions = ["issue_key", "revoke_key"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["store", "name"]
        return ["store", "name", "is_active", "key_prefix", "key_issued_at"]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("store", "key_prefix", "key_issued_at")

    delete_refusal = (
        _("Registers are never deleted: receipts name them."),
        _("Untick Active on its page and revoke its key (an action of the list) instead."),
    )

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        actor = request_actor(request)
        if change:
            services.register_update(
                register=obj, actor=actor, **_changed(form, ["name", "is_active"])
            )
            return
        adopt(
            obj,
            services.register_create(
                store=form.cleaned_data["store"], name=form.cleaned_data["name"], actor=actor
            ),
        )

    @admin.action(description=_("Issue a new API key"), permissions=["change"])
    def issue_key(self, request, queryset):
        for register in queryset.select_related("merchant", "store"):
            key = services.register_key_issue(register=register, actor=request_actor(request))
            self.message_user(
                request,
                _("New API key of %(register)s (shown only now, copy it): %(key)s")
                % {"register": register, "key": key},
                messages.WARNING,
            )

    @admin.action(description=_("Revoke the API key"), permissions=["change"])
    def revoke_key(self, request, queryset):
        count = 0
        for register in queryset.select_related("merchant"):
            services.register_key_revoke(register=register, actor=request_actor(request))
            count += 1
        self.message_user(
            request, _("API keys revoked: %(count)d.") % {"count": count}, messages.SUCCESS
        )


class StaffAddForm(forms.ModelForm):
    username = forms.CharField(
        label=capfirst(_("username")), max_length=150, widget=UnfoldAdminTextInputWidget
    )
    password = forms.CharField(label=capfirst(_("password")), widget=UnfoldAdminPasswordWidget)
    first_name = forms.CharField(
        label=capfirst(_("first name")),
        max_length=150,
        required=False,
        widget=UnfoldAdminTextInputWidget,
    )
    last_name = forms.CharField(
        label=capfirst(_("last name")),
        max_length=150,
        required=False,
        widget=UnfoldAdminTextInputWidget,
    )
    email = forms.EmailField(
        label=capfirst(_("e-mail")), required=False, widget=UnfoldAdminTextInputWidget
    )

    class Meta:
        model = StaffMember
        fields = ["merchant", "role"]

    def clean_username(self):
        from django.contrib.auth import get_user_model

        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This username is taken."))
        return username

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class StaffChangeForm(forms.ModelForm):
    is_active = forms.BooleanField(
        label=capfirst(_("may sign in")),
        required=False,
        help_text=_("Off: the user is locked out."),
    )

    class Meta:
        model = StaffMember
        fields = ["role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["is_active"].initial = self.instance.user.is_active


def may_appoint_owners(request) -> bool:
    member = staff_member(request)
    return is_platform_operator(request) or (member is not None and member.role == Role.OWNER)


@admin.register(StaffMember)
class StaffMemberAdmin(MerchantScopedAdmin):
    """Staff of the merchant. Only an owner appoints or changes owners; nobody changes their
    own role or locks themselves out."""

    list_display = ["user", "role", "is_active"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    list_select_related = ["user"]
    actions = None

    @admin.display(description=_("may sign in"), boolean=True, ordering="user__is_active")
    def is_active(self, obj):
        """The list's column and the read-only form's field (Django's own label for
        "user__is_active" is an English "User is active")."""
        return obj.user.is_active

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = StaffChangeForm if obj is not None else StaffAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            fields = ["username", "password", "role", "first_name", "last_name", "email"]
            # The platform operator belongs to no merchant, so says whose staff this is
            # (that is how a new merchant gets its first owner).
            return ["merchant", *fields] if is_platform_operator(request) else fields
        return ["role", "is_active"]

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not may_appoint_owners(request):
            kwargs["choices"] = [c for c in Role.choices if c[0] != Role.OWNER]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            if obj.user_id == request.user.pk:
                return False
            if obj.role == Role.OWNER and not may_appoint_owners(request):
                return False
        return super().has_change_permission(request, obj)

    delete_refusal = (
        _("Staff members are never deleted: the audit trail names them."),
        _("Untick Active on their page instead: they can no longer sign in."),
    )

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data, actor = form.cleaned_data, request_actor(request)
        if change:
            services.staff_update(
                member=obj,
                actor=actor,
                role=data["role"] if "role" in form.changed_data else None,
                is_active=data["is_active"] if "is_active" in form.changed_data else None,
            )
            return
        adopt(
            obj,
            services.staff_create(
                merchant=data.get("merchant") or request_merchant(request),
                actor=actor,
                username=data["username"],
                password=data["password"],
                role=data["role"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
            ),
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ShowsActors, ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_id", "reason"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor", "action", "object_id", "reason"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = None
