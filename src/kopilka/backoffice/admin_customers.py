"""Admin of the customers app (scoped to the staff user's merchant): the customer list with
its search, filters, sorting, export and import, and the customer form."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.decorators import display
from unfold.paginator import InfinitePaginator
from unfold.views import ChangeList

from kopilka.customers import services
from kopilka.customers.cards import normalize_card_number
from kopilka.customers.exceptions import InvalidEmail, InvalidPhone
from kopilka.customers.models import Card, Customer, Group
from kopilka.customers.normalize import normalize_email, normalize_phone
from kopilka.customers.selectors import Count, count_bounded, customer_find
from kopilka.ledger.selectors import points_of_customers
from kopilka.programs import services as programs
from kopilka.programs.standing import standings_of

from . import card_catalogue, card_moves, customer_card, customer_groups, customer_io
from .customer_filters import (
    BalanceFilter,
    BirthdayMonthFilter,
    BirthdaySoonFilter,
    ConsentFilter,
    GroupFilter,
    LastPurchaseRangeFilter,
    LevelFilter,
    NotSeenForDaysFilter,
    RFMFilter,
    SpentFilter,
    VisitsFilter,
)
from .formatting import money
from .scoping import MerchantScopedAdmin, adopt, request_actor, request_merchant

# The list says exactly how many customers match up to this many; past it, "more than" and,
# on PostgreSQL, the planner's estimate (counting a million rows on every page is a scan).
COUNT_EXACT_UP_TO = 10_000


def matching_text(count: Count) -> str:
    """ "37 customers", "More than 10,000 customers: about 412,000" in the active language."""

    def number(n: int) -> str:
        return number_format(n, force_grouping=True)

    if count.exact is not None:
        return ngettext("%(count)s customer", "%(count)s customers", count.exact) % {
            "count": number(count.exact)
        }
    if count.estimate is not None:
        return ngettext(
            "More than %(bound)s customers: about %(count)s",
            "More than %(bound)s customers: about %(count)s",
            count.at_least,
        ) % {"bound": number(count.at_least), "count": number(count.estimate)}
    return ngettext(
        "More than %(bound)s customer", "More than %(bound)s customers", count.at_least
    ) % {"bound": number(count.at_least)}


class CustomerChangeList(ChangeList):
    """Attaches to the rows of the page their points and level now, as the customer card
    shows them (a few queries for the page). The filters and the sorting use the snapshot
    columns and the levels recorded by `kopilka tick`, which the indexes carry.

    `matching` says how many customers the list holds (a first page with room to spare
    counts itself, else a bounded count); `paged` is False when one page holds them all, and
    the page shows no paging then."""

    def get_results(self, request):
        super().get_results(request)
        rows = list(self.result_list)
        if self.page_num == 1 and len(rows) < self.list_per_page:
            self.matching = Count(exact=len(rows))
        else:
            self.matching = count_bounded(self.queryset, exact_up_to=COUNT_EXACT_UP_TO)
        self.matching_text = matching_text(self.matching)
        exact, shown = self.matching.exact, self.page_num * self.list_per_page
        self.paged = self.page_num > 1 or exact is None or exact > self.list_per_page
        self.has_next = len(rows) == self.list_per_page and (exact is None or exact > shown)
        ids, now = [row.pk for row in rows], timezone.now()
        points = points_of_customers(ids, now=now)
        standings = standings_of(merchant=request_merchant(request), customer_ids=ids, now=now)
        for row in rows:
            row.points_now = points.get(row.pk, 0)
            row.level_now = standings[row.pk].level
        self.result_list = rows


class CustomerForm(forms.ModelForm):
    """Profile fields; contacts are checked here the way customers.services will store them."""

    class Meta:
        model = Customer
        fields = [
            "last_name",
            "first_name",
            "middle_name",
            "phone",
            "email",
            "birthday",
            "gender",
            "code_word",
            "marketing_consent",
            "groups",
            "notes",
        ]

    merchant = None  # set per request by CustomerAdmin.get_form

    def clean(self):
        data = super().clean()
        if self.merchant is None:
            raise forms.ValidationError(_("Your account is not attached to a merchant."))
        try:
            phone = normalize_phone(data["phone"], self.merchant.phone_region)
            data["phone"] = phone
        except KeyError:
            phone = ""
        except InvalidPhone as error:
            self.add_error("phone", str(error.message))
            phone = ""
        try:
            data["email"] = email = normalize_email(data["email"]) if data.get("email") else ""
        except InvalidEmail as error:
            self.add_error("email", str(error.message))
            email = ""
        if not data.get("phone") and not data.get("email") and not self.errors:
            raise forms.ValidationError(_("Give at least a phone number or an e-mail address."))
        others = Customer.objects.filter(merchant=self.merchant).exclude(pk=self.instance.pk)
        if phone and others.filter(phone=phone).exists():
            self.add_error("phone", _("A customer with this phone is already registered."))
        if email and others.filter(email=email).exists():
            self.add_error("email", _("A customer with this e-mail is already registered."))
        return data

    def _post_clean(self):
        # The model is written by customers.services, not by the form: skip model validation
        # (the unique constraints are checked above, and again by the services).
        pass


@admin.register(Customer)
class CustomerAdmin(MerchantScopedAdmin):
    form = CustomerForm
    # Fits a 1366-pixel screen: the e-mail under the phone, the level where the e-mail was
    # (the sorted columns keep their numbers in `o=`).
    list_display = (
        "display_name",
        "display_contacts",
        "display_level",
        "display_balance",
        "display_spent",
        "visits",
        "display_last_purchase",
        "display_birthday",
        "status",
    )
    # The name opens the customer card; the card links to this admin's change form.
    list_display_links = None
    list_filter = (
        ("last_purchase_at", LastPurchaseRangeFilter),
        NotSeenForDaysFilter,
        BirthdayMonthFilter,
        BirthdaySoonFilter,
        BalanceFilter,
        SpentFilter,
        VisitsFilter,
        GroupFilter,
        LevelFilter,
        "status",
        ConsentFilter,
        RFMFilter,
    )
    list_filter_submit = True
    search_fields = ("phone",)  # shows the search box; the search itself is below
    search_help_text = _("Phone in any format or its last 4+ digits, card number, name, e-mail")
    # A million rows: no COUNT(*) of the whole table or of the filtered list on each page.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a count per filter choice is a scan each
    paginator = InfinitePaginator  # no COUNT; the page's own (bounded) count is `matching`
    list_per_page = 50
    ordering = ("-id",)
    actions = None
    change_list_template = "backoffice/customers/change_list.html"
    list_before_template = "backoffice/customers/list_toolbar.html"
    change_form_before_template = "backoffice/customers/form_toolbar.html"
    readonly_fields = ("status", "visits", "last_purchase_at", "created_at", "anonymised_at")

    def get_changelist(self, request, **kwargs):
        return CustomerChangeList

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The merchant rides on the form class: MerchantScopedAdmin may wrap the class again
        # to show a service's error, so it must be the base, not a subclass of the result.
        merchant = request_merchant(request)
        kwargs["form"] = type("CustomerForm", (CustomerForm,), {"merchant": merchant})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        """Exact lookups on indexed columns (customers.selectors.customer_find): a card
        number, a phone in any spelling, an e-mail, or the words of a name."""
        term = (search_term or "").strip()
        merchant = request_merchant(request)
        if not term or merchant is None:
            return queryset, False
        ids = [
            match.customer.pk for match in customer_find(merchant=merchant, query=term, limit=500)
        ]
        return queryset.filter(pk__in=ids), False

    delete_refusal = (
        _("Customers are never deleted: their receipts and points refer to them."),
        _("To erase a customer's personal data, use Anonymise on the customer card."),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # customers are anonymised (card page), never deleted

    def has_move_cards_permission(self, request):
        # Moving cards changes customers' programs: the card types' people, not marketers.
        return request.user.has_perm("customers.change_cardtype")

    def changelist_view(self, request, extra_context=None):
        extra = {
            "can_move_cards": self.has_move_cards_permission(request),
            "can_change_customers": self.has_change_permission(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    # ---- columns ----------------------------------------------------------------------------

    @display(description=_("customer"), ordering="name_search")
    def display_name(self, obj):
        url = reverse("admin:customers_customer_card", args=[obj.pk])
        return format_html('<a class="text-primary-600 font-medium" href="{}">{}</a>', url, obj)

    @display(description=_("contacts"), ordering="phone")
    def display_contacts(self, obj):
        if not obj.email:
            return obj.phone or "—"
        return format_html(
            '{}<span class="customer-email text-xs text-base-500" title="{}">{}</span>',
            obj.phone,
            obj.email,
            obj.email,
        )

    @display(description=_("last purchase"), ordering="last_purchase_at")
    def display_last_purchase(self, obj):
        if obj.last_purchase_at is None:
            return "—"
        return timezone.localtime(obj.last_purchase_at).strftime("%d.%m.%Y")

    @display(description=_("bonus balance"), ordering="balance")
    def display_balance(self, obj):
        return money(getattr(obj, "points_now", obj.balance))

    @display(description=_("total spent"), ordering="purchases_total")
    def display_spent(self, obj):
        return money(obj.purchases_total)

    @display(description=_("birthday"), ordering="birthday_md")
    def display_birthday(self, obj):
        return obj.birthday.strftime("%d.%m.%Y") if obj.birthday else "—"

    @display(description=_("level"))
    def display_level(self, obj):
        level = getattr(obj, "level_now", None)
        return level.name if level is not None else "—"

    # ---- writes through the services --------------------------------------------------------

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        profile = {name: data[name] for name in services.PROFILE_FIELDS if name in data}
        actor = request_actor(request)
        if change:
            services.customer_update(customer=obj, actor=actor, **profile)
            return
        # A member added here joins their program as one registered at the till does.
        created = programs.customer_register_and_enrol(
            merchant=request_merchant(request), actor=actor, **profile
        )
        adopt(obj, created)

    def save_related(self, request, form, formsets, change):
        customer = Customer.objects.get(pk=form.instance.pk)
        wanted = {group.pk for group in form.cleaned_data.get("groups") or []}
        if wanted != set(customer.groups.values_list("pk", flat=True)):
            services.customer_set_groups(
                customer=customer, groups=wanted, actor=request_actor(request)
            )

    # ---- pages of this admin ----------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "export/<str:fmt>/",
                view(customer_io.ExportView.as_view(admin=self)),
                name="customers_customer_export",
            ),
            path(
                "import/",
                view(customer_io.ImportView.as_view(admin=self)),
                name="customers_customer_import",
            ),
            path(
                "move-cards/",
                view(card_moves.CustomersMoveView.as_view(admin=self)),
                name="customers_customer_move_cards",
            ),
            path(
                "groups/",
                view(customer_groups.CustomersGroupView.as_view(admin=self)),
                name="customers_customer_groups",
            ),
            *customer_card.urls(self),
            *super().get_urls(),
        ]


@admin.register(Group)
class GroupAdmin(MerchantScopedAdmin):
    list_display = ("name",)
    search_fields = ("name",)
    fields = ("name",)

    def save_model(self, request, obj, form, change):
        created = services.group_create(
            merchant=request_merchant(request),
            name=form.cleaned_data["name"],
            actor=request_actor(request),
        )
        adopt(obj, created)

    def has_change_permission(self, request, obj=None):
        # A group is renamed by creating another; members are set on the customer.
        return obj is None and super().has_change_permission(request, obj)

    delete_refusal = (
        _("Customer groups are not deleted: levels and campaigns may name them."),
        _("Take its members out instead: Groups on the customer list."),
    )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Card)
class CardAdmin(MerchantScopedAdmin):
    """Cards to look up by number; they are issued, blocked and reissued on the customer
    card page (customers.services), so this list is read-only. Printed cards are entered
    ahead, without an owner, from its toolbar (card_catalogue)."""

    list_before_template = "backoffice/customers/card_list_toolbar.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "stock/",
                view(card_catalogue.StockView.as_view(admin=self)),
                name="customers_card_stock",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "can_stock_cards": request.user.has_perm("customers.add_card"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    list_display = ("number", "display_customer", "kind", "status", "card_type", "issued_at")
    list_filter = ("kind", "status")
    list_select_related = ("customer", "card_type")
    search_fields = ("number",)
    search_help_text = _("Card number")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = InfinitePaginator
    ordering = ("-id",)
    actions = None

    def get_search_results(self, request, queryset, search_term):
        number = normalize_card_number(search_term or "")
        return (queryset.filter(number=number) if number else queryset), False

    @display(description=_("customer"))
    def display_customer(self, obj):
        if obj.customer_id is None:
            return "—"
        url = reverse("admin:customers_customer_card", args=[obj.customer_id])
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, obj.customer)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    delete_refusal = (
        _("Cards are never deleted: receipts and the history name them."),
        _("Block the card or reissue it on the customer card instead."),
    )

    def has_delete_permission(self, request, obj=None):
        return False
