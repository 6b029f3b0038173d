"""Export of the filtered customer list (XLSX, CSV) and import of customers from a file with
column mapping, a dry-run preview and a summary.

The import is our own small implementation on openpyxl and csv, not django-import-export:
its resources write rows with `Model.save()`, while customers here must go through
`customers.services` (normalised contacts, plan limits, audit), cards through `card_issue`
and opening balances through the ledger, and its fixed field-to-column resources have no
step where the user maps the file's own columns.

Rule: the preview is a real run of the import inside a transaction that is rolled back, so
it finds every error the confirmation would (bad phone, duplicate in the file or with an
existing customer, bad date, bad amount, a card number taken). With the file the user
chooses: "valid rows" (the default) imports every row that passed, in one transaction, and
lists the rows with errors (never silently dropped); "all or nothing" imports nothing if any
row has an error.
Group names in the file that the merchant does not have yet are created. Opening balances
are credited by `programs.services.balance_import` (audited): `manual_credit` entries
("opening balance (import)") in the account of the customer's program, opened without the
welcome bonus, burning at the end of the row's expiry date or, without one, after the
program's bonus lifetime counted from the import (the preview says which applies).

A file may also complete the base ("update customers already in the base"): a row whose
phone, e-mail or card number finds a customer updates that customer with the cells it fills
(an empty cell changes nothing), adds its groups and attaches its card. An existing customer's
balance is never changed by an import: their opening balance cells are counted and left.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import json
import re
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from openpyxl import Workbook, load_workbook

from kopilka import bounds
from kopilka.customers import services as customers
from kopilka.customers import stats
from kopilka.customers.cards import normalize_card_number
from kopilka.customers.exceptions import InvalidEmail, InvalidPhone
from kopilka.customers.models import Card, Customer, Group
from kopilka.customers.normalize import normalize_email, normalize_phone
from kopilka.errors import KopilkaError
from kopilka.ledger.selectors import points_of_customers
from kopilka.numfmt import NotANumber, parse_number
from kopilka.programs import services as programs
from kopilka.programs.selectors import program_for_receipts
from kopilka.programs.standing import standings_of

from . import exports
from .formatting import money
from .scoping import request_actor, request_merchant, staff_member

CHUNK = 1000
MAX_ROWS = 20_000
UPLOADS = Path(tempfile.gettempdir()) / "kopilka-imports"
UPLOAD_LIFETIME_S = 24 * 3600

# ---- export ---------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    _("last name"),
    _("first name"),
    _("middle name"),
    _("phone"),
    _("e-mail"),
    _("birthday"),
    _("marketing consent"),
    _("cards"),
    _("bonus balance"),
    _("total spent"),
    _("visits"),
    _("last purchase"),
    _("level"),
)


def _amount(kopecks: int) -> Decimal:
    return Decimal(kopecks) / 100


def export_rows(queryset, merchant):
    """The rows of the export, read in chunks by primary key (constant memory)."""
    after = 0
    while True:
        chunk = list(queryset.filter(pk__gt=after).order_by("pk")[:CHUNK])
        if not chunk:
            return
        ids = [c.pk for c in chunk]
        cards: dict[int, list[str]] = {}
        for customer_id, number in (
            Card.objects.filter(merchant=merchant, customer_id__in=ids)
            .exclude(status=Card.Status.LOST)
            .order_by("customer_id", "id")
            .values_list("customer_id", "number")
        ):
            cards.setdefault(customer_id, []).append(number)
        # The points and the level now, as the list and the card show them.
        now = timezone.now()
        points = points_of_customers(ids, now=now)
        levels = standings_of(merchant=merchant, customer_ids=ids, now=now)
        for c in chunk:
            yield [
                c.last_name,
                c.first_name,
                c.middle_name,
                c.phone,
                c.email,
                c.birthday,
                gettext("yes") if c.marketing_consent else gettext("no"),
                " ".join(cards.get(c.pk, [])),
                _amount(points.get(c.pk, 0)),
                _amount(c.purchases_total),
                c.visits,
                timezone.localtime(c.last_purchase_at).replace(tzinfo=None)
                if c.last_purchase_at
                else None,
                levels[c.pk].level.name if levels[c.pk].level is not None else "",
            ]
        after = ids[-1]


def _csv_stream(rows):
    writer = csv.writer(exports.Echo())
    yield "\ufeff"  # Excel opens UTF-8 CSV correctly only with a BOM
    yield writer.writerow([exports.csv_cell(c) for c in EXPORT_COLUMNS])
    for row in rows:
        yield writer.writerow(["" if v is None else exports.csv_cell(v) for v in row])


def _xlsx_file(rows):
    book = Workbook(write_only=True)
    sheet = book.create_sheet(gettext("Customers"))
    sheet.append([exports.xlsx_cell(sheet, c) for c in EXPORT_COLUMNS])
    for row in rows:
        sheet.append([exports.xlsx_cell(sheet, v) for v in row])
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    book.save(handle)
    handle.seek(0)
    return handle


class ExportView(View):
    """The list as filtered and searched on the changelist (same query string)."""

    admin = None

    def get(self, request, fmt):
        if not self.admin.has_view_permission(request) or fmt not in ("xlsx", "csv"):
            raise PermissionDenied
        merchant = request_merchant(request)
        if merchant is None:
            raise PermissionDenied
        try:
            changelist = self.admin.get_changelist_instance(request)
        except IncorrectLookupParameters:
            raise Http404 from None
        rows = export_rows(changelist.get_queryset(request), merchant)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        if fmt == "csv":
            response = StreamingHttpResponse(_csv_stream(rows), content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
            return response
        return FileResponse(
            _xlsx_file(rows), as_attachment=True, filename=f"customers-{stamp}.xlsx"
        )


# ---- import: reading and mapping ------------------------------------------------------------

FIELDS = {
    "phone": _("phone"),
    "email": _("e-mail"),
    "last_name": _("last name"),
    "first_name": _("first name"),
    "middle_name": _("middle name"),
    "birthday": _("birthday"),
    "gender": _("gender"),
    "card_number": _("card number"),
    "groups": _("groups"),
    "marketing_consent": _("marketing consent"),
    "opening_balance": _("opening balance"),
    "balance_expires": _("opening balance expiry date"),
}
# Header words that suggest a field, in the languages of the back office.
HINTS = {
    "phone": ("phone", "телефон", "тел"),
    "email": ("mail", "почта"),
    "last_name": ("last", "surname", "фамилия", "прізвище"),
    "first_name": ("first", "имя", "ім'я", "імя"),
    "middle_name": ("middle", "отчество", "по батькові"),
    "birthday": ("birth", "рожд", "народж"),
    "gender": ("gender", "sex", "пол", "стать"),
    "card_number": ("card", "карт"),
    "groups": ("group", "групп", "груп"),
    "marketing_consent": ("consent", "соглас", "згод"),
    # Before the opening balance: "bonus expiry" names the date, not the amount.
    "balance_expires": ("expir", "сгора", "згора", "срок", "термін"),
    "opening_balance": ("balance", "баланс", "бонус"),
}


class FileUnreadable(KopilkaError):
    code = "import_file_unreadable"
    default_message = _("The file cannot be read: upload an .xlsx or a .csv file.")


def read_table(upload) -> list[list[str]]:
    """Header and rows of an uploaded .xlsx or .csv file, every cell as text."""
    name = (upload.name or "").lower()
    data = upload.read()
    if name.endswith(".xlsx"):
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise FileUnreadable() from exc
        table = [[_cell(v) for v in row] for row in book.active.iter_rows(values_only=True)]
    elif name.endswith(".csv"):
        for encoding in ("utf-8-sig", "cp1251"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise FileUnreadable()
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        table = [list(row) for row in csv.reader(io.StringIO(text), dialect)]
    else:
        raise FileUnreadable()
    table = [row for row in table if any(cell.strip() for cell in row)]
    if len(table) < 2:
        raise FileUnreadable(_("The file has no rows under its header."))
    if len(table) - 1 > MAX_ROWS:
        raise FileUnreadable(_("At most %(n)s rows per file.") % {"n": MAX_ROWS})
    return table


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def guess_mapping(header: list[str]) -> list[str]:
    guessed, used = [], set()
    for title in header:
        low = title.strip().lower()
        choice = next(
            (f for f, words in HINTS.items() if f not in used and any(w in low for w in words)),
            "",
        )
        used.add(choice)
        guessed.append(choice)
    return guessed


# ---- import: one row ------------------------------------------------------------------------

DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%y")
TRUE = {"1", "yes", "y", "true", "да", "так", "+", "x"}
FALSE = {"", "0", "no", "n", "false", "нет", "ні", "-"}
GENDERS = {"f": "f", "ж": "f", "female": "f", "жен": "f", "m": "m", "м": "m", "male": "m"}


class RowError(Exception):
    pass


def _date(text: str):
    if not text:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text.split(" ")[0], fmt).date()
        except ValueError:
            continue
    raise RowError(gettext("Bad date: %(value)s") % {"value": text})


def _balance(text: str) -> int:
    """An opening balance in bonuses ("1 500,50") as kopecks, at most
    kopilka.bounds.MAX_OPENING_BALANCE."""
    if not text:
        return 0
    try:
        amount = parse_number(text)
    except NotANumber:
        amount = None
    maximum = Decimal(bounds.MAX_OPENING_BALANCE) / 100
    if amount is not None and amount.is_finite() and amount > maximum:
        raise RowError(
            gettext("Opening balance %(value)s is above the maximum of %(maximum)s.")
            % {"value": text, "maximum": money(bounds.MAX_OPENING_BALANCE)}
        )
    if amount is None or not amount.is_finite() or amount < 0 or amount != round(amount, 2):
        raise RowError(gettext("Bad amount: %(value)s") % {"value": text})
    return int(amount * 100)


def _flag(text: str) -> bool:
    low = text.strip().lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise RowError(gettext("Bad yes/no value: %(value)s") % {"value": text})


@dataclass
class Parsed:
    profile: dict
    card_number: str = ""
    groups: list[str] = field(default_factory=list)
    opening_balance: int = 0
    balance_expires: datetime.date | None = None


def parse_row(values: dict[str, str], merchant) -> Parsed:
    """Check one row's values; RowError names the first problem found."""
    phone = values.get("phone", "")
    email = values.get("email", "")
    try:
        phone = normalize_phone(phone, merchant.phone_region) if phone else ""
    except InvalidPhone:
        raise RowError(gettext("Bad phone: %(value)s") % {"value": values["phone"]}) from None
    try:
        email = normalize_email(email) if email else ""
    except InvalidEmail:
        raise RowError(gettext("Bad e-mail: %(value)s") % {"value": values["email"]}) from None
    if not phone and not email:
        raise RowError(gettext("No phone and no e-mail."))
    gender = values.get("gender", "").strip().lower()
    if gender and gender not in GENDERS:
        raise RowError(gettext("Unknown gender: %(value)s") % {"value": values["gender"]})
    return Parsed(
        profile={
            "phone": phone,
            "email": email,
            "first_name": values.get("first_name", ""),
            "last_name": values.get("last_name", ""),
            "middle_name": values.get("middle_name", ""),
            "birthday": _date(values.get("birthday", "")),
            "gender": GENDERS.get(gender, ""),
            "marketing_consent": _flag(values.get("marketing_consent", "")),
        },
        card_number=normalize_card_number(values.get("card_number", "")),
        groups=[g.strip() for g in re.split(r"[,;]", values.get("groups", "")) if g.strip()],
        opening_balance=_balance(values.get("opening_balance", "")),
        balance_expires=_expiry(values.get("balance_expires", "")),
    )


def _expiry(text: str):
    """An opening balance's expiry date (a day in the past is refused by balance_import)."""
    try:
        return _date(text)
    except RowError:
        raise RowError(gettext("Bad expiry date: %(value)s") % {"value": text}) from None


# ---- import: the run ------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0  # existing customers the file completed
    balances_left: int = 0  # opening balances of existing customers, not credited
    credited: int = 0  # kopecks of opening balances
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, message)
    rolled_back: bool = False

    @property
    def skipped(self) -> int:
        return len(self.errors)


def _group_ids(merchant, names, actor, cache) -> list[int]:
    ids = []
    for name in names:
        if name not in cache:
            group = Group.objects.filter(merchant=merchant, name=name).first()
            cache[name] = (
                group or customers.group_create(merchant=merchant, name=name, actor=actor)
            ).pk
        ids.append(cache[name])
    return ids


def _import_one(merchant, parsed: Parsed, actor, groups_cache) -> int:
    customer = customers.customer_register(
        merchant=merchant,
        actor=actor,
        groups=_group_ids(merchant, parsed.groups, actor, groups_cache),
        **parsed.profile,
    )
    if parsed.card_number:
        customers.card_issue(
            customer=customer, kind=Card.Kind.PLASTIC, number=parsed.card_number, actor=actor
        )
    if parsed.opening_balance:
        # No welcome bonus: a customer moved from another system gets the balance they had.
        programs.balance_import(
            customer=customer,
            amount=parsed.opening_balance,
            expires_on=parsed.balance_expires,
            actor=actor,
        )
    return customer.pk


def _existing(merchant, parsed: Parsed):
    """The customer the row's phone, e-mail or card number finds, or None. Different
    customers for different keys of one row are an error: the row cannot say which it means."""
    found = set()
    phone, email = parsed.profile["phone"], parsed.profile["email"]
    if phone:
        found.update(
            Customer.objects.filter(merchant=merchant, phone=phone).values_list("pk", flat=True)
        )
    if email:
        found.update(
            Customer.objects.filter(merchant=merchant, email=email).values_list("pk", flat=True)
        )
    if parsed.card_number:
        found.update(
            Card.objects.filter(merchant=merchant, number=parsed.card_number)
            .exclude(customer=None)
            .values_list("customer_id", flat=True)
        )
    if len(found) > 1:
        raise RowError(
            gettext("The phone, e-mail and card number of this row belong to different customers.")
        )
    return Customer.objects.get(pk=found.pop()) if found else None


def _update_one(customer, parsed: Parsed, filled: set[str], actor, groups_cache) -> None:
    """Complete an existing customer from the row's filled cells."""
    changes = {name: value for name, value in parsed.profile.items() if name in filled}
    if changes:
        customer = customers.customer_update(customer=customer, actor=actor, **changes)
    if parsed.groups:
        wanted = set(_group_ids(customer.merchant, parsed.groups, actor, groups_cache))
        current = set(customer.groups.values_list("pk", flat=True))
        if not wanted <= current:
            customers.customer_set_groups(customer=customer, groups=current | wanted, actor=actor)
    if parsed.card_number and not customer.cards.filter(number=parsed.card_number).exists():
        customers.card_issue(
            customer=customer, kind=Card.Kind.PLASTIC, number=parsed.card_number, actor=actor
        )


def run_import(
    *,
    merchant,
    actor,
    rows: list[list[str]],
    mapping: list[str],
    commit: bool,
    all_or_nothing,
    update_existing: bool = False,
) -> ImportResult:
    """Import the rows (without their header) as mapped; roll everything back unless
    `commit`, and when `all_or_nothing` and any row failed. With `update_existing`, rows of
    customers already in the base complete them instead of being refused as duplicates."""
    result = ImportResult()
    seen: dict[tuple[str, str], int] = {}
    groups_cache: dict[str, int] = {}
    created_ids = []
    with transaction.atomic():
        for number, row in enumerate(rows, start=2):  # row 1 is the header
            values = {
                f: (row[i] if i < len(row) else "").strip() for i, f in enumerate(mapping) if f
            }
            try:
                parsed = parse_row(values, merchant)
                for key in (
                    ("phone", parsed.profile["phone"]),
                    ("email", parsed.profile["email"]),
                    ("card", parsed.card_number),
                ):
                    if key[1] and key in seen:
                        raise RowError(
                            gettext("Duplicate of row %(row)s in this file.") % {"row": seen[key]}
                        )
                for key in (
                    ("phone", parsed.profile["phone"]),
                    ("email", parsed.profile["email"]),
                    ("card", parsed.card_number),
                ):
                    if key[1]:
                        seen[key] = number
                with transaction.atomic():
                    existing = _existing(merchant, parsed) if update_existing else None
                    if existing is not None:
                        filled = {name for name, value in values.items() if value}
                        _update_one(existing, parsed, filled, actor, groups_cache)
                    else:
                        created_ids.append(_import_one(merchant, parsed, actor, groups_cache))
            except RowError as error:
                result.errors.append((number, str(error)))
            except KopilkaError as error:
                result.errors.append((number, str(error.message)))
            else:
                if existing is not None:
                    result.updated += 1
                    result.balances_left += bool(parsed.opening_balance)
                else:
                    result.created += 1
                    result.credited += parsed.opening_balance
        stats.refresh_customer_balances(created_ids, now=timezone.now())
        if not commit or (all_or_nothing and result.errors):
            transaction.set_rollback(True)
            result.rolled_back = True
    return result


# ---- import: the pages ----------------------------------------------------------------------


def expiry_note(merchant, mapping: list[str], now=None) -> str | None:
    """What the preview says about when the imported opening balances burn."""
    if "opening_balance" not in mapping:
        return None
    now = now or timezone.now()
    program = program_for_receipts(merchant=merchant, now=now)
    if program is None:
        return None
    with_column = "balance_expires" in mapping
    if not program.lifetime_days:
        text = (
            gettext(
                "Opening balances burn at the end of the date in the expiry column; where that "
                "cell is empty, they never burn (%(program)s has no bonus lifetime)."
            )
            if with_column
            else gettext(
                "No expiry date column is mapped: opening balances never burn (%(program)s has "
                "no bonus lifetime)."
            )
        )
        return text % {"program": program.name}
    burns = programs.balance_import_expiry(
        merchant=merchant, expires_on=None, lifetime_days=program.lifetime_days, now=now
    )
    text = (
        gettext(
            "Opening balances burn at the end of the date in the expiry column; where that cell "
            "is empty, at the end of the bonus lifetime of the customer's program counted from "
            "the import (%(program)s: on %(date)s)."
        )
        if with_column
        else gettext(
            "No expiry date column is mapped: opening balances burn at the end of the bonus "
            "lifetime of the customer's program counted from the import (%(program)s: on "
            "%(date)s)."
        )
    )
    day = burns.astimezone(ZoneInfo(merchant.time_zone)).date()
    return text % {"program": program.name, "date": date_format(day, "SHORT_DATE_FORMAT")}


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File (.xlsx or .csv)"))
    all_or_nothing = forms.BooleanField(
        label=_("All or nothing: import no row if any row has an error"), required=False
    )
    update_existing = forms.BooleanField(
        label=_(
            "Update customers already in the base (found by phone, e-mail or card number): "
            "filled cells replace their details, empty cells change nothing"
        ),
        required=False,
    )


def _upload_path(token: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        raise Http404
    return UPLOADS / f"{token}.json"


def _save_upload(request, table, all_or_nothing, update_existing) -> str:
    UPLOADS.mkdir(parents=True, exist_ok=True)
    # Uploads left behind (the user never confirmed) are swept after a day.
    stale = time.time() - UPLOAD_LIFETIME_S
    for old in UPLOADS.glob("*.json"):
        with contextlib.suppress(FileNotFoundError):
            if old.stat().st_mtime < stale:
                old.unlink()
    token = uuid.uuid4().hex
    _upload_path(token).write_text(
        json.dumps(
            {
                "user": request.user.pk,
                "merchant": request_merchant(request).pk,
                "table": table,
                "all_or_nothing": all_or_nothing,
                "update_existing": update_existing,
            }
        )
    )
    return token


def _load_upload(request, token) -> dict:
    try:
        upload = json.loads(_upload_path(token).read_text())
    except FileNotFoundError:
        raise Http404 from None
    # Another user's (or merchant's) upload is reported like a missing one.
    if upload["user"] != request.user.pk or upload["merchant"] != request_merchant(request).pk:
        raise Http404
    return upload


class ImportView(View):
    """upload -> map columns -> preview (a rolled-back run) -> confirm -> summary."""

    admin = None
    template = "backoffice/customers/import.html"

    def _check(self, request):
        member = staff_member(request)
        if member is None or not self.admin.has_add_permission(request):
            raise PermissionDenied

    def _page(self, request, **context):
        return render(
            request,
            self.template,
            {
                **self.admin.admin_site.each_context(request),
                "opts": self.admin.model._meta,
                "title": _("Import customers"),
                "fields": FIELDS,
                **context,
            },
        )

    def get(self, request):
        self._check(request)
        return self._page(request, step="upload", form=UploadForm())

    def post(self, request):
        self._check(request)
        step = request.POST.get("step")
        if step == "upload":
            return self._uploaded(request)
        upload = _load_upload(request, request.POST.get("token", ""))
        header, rows = upload["table"][0], upload["table"][1:]
        mapping = [request.POST.get(f"column_{i}", "") for i in range(len(header))]
        mapping = [m if m in FIELDS else "" for m in mapping]
        context = {
            "token": request.POST["token"],
            "header": header,
            "mapping": mapping,
            "columns": list(zip(header, mapping, strict=True)),
            "all_or_nothing": upload["all_or_nothing"],
            "update_existing": upload.get("update_existing", False),
        }
        if not {"phone", "email"} & set(mapping):
            return self._page(
                request,
                step="map",
                error=_("Map a column to the phone or to the e-mail."),
                samples=rows[:3],
                **context,
            )
        confirm = step == "confirm"
        result = run_import(
            merchant=request_merchant(request),
            actor=request_actor(request),
            rows=rows,
            mapping=mapping,
            commit=confirm,
            all_or_nothing=upload["all_or_nothing"],
            update_existing=upload.get("update_existing", False),
        )
        if confirm:
            _upload_path(request.POST["token"]).unlink(missing_ok=True)
        return self._page(
            request,
            step="summary" if confirm else "preview",
            result=result,
            expiry_note=None if confirm else expiry_note(request_merchant(request), mapping),
            total=len(rows),
            **context,
        )

    def _uploaded(self, request):
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._page(request, step="upload", form=form)
        try:
            table = read_table(form.cleaned_data["file"])
        except FileUnreadable as error:
            form.add_error("file", str(error.message))
            return self._page(request, step="upload", form=form)
        token = _save_upload(
            request,
            table,
            form.cleaned_data["all_or_nothing"],
            form.cleaned_data["update_existing"],
        )
        header = table[0]
        return self._page(
            request,
            step="map",
            token=token,
            columns=list(zip(header, guess_mapping(header), strict=True)),
            samples=table[1:4],
        )
