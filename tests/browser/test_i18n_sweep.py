"""Issue 16: every back-office and cashier page in Russian and in Ukrainian, for every role.

The pages are discovered, not listed: the admin site's registry (each model's list, add form,
an object's change form, history and delete pages, each app's index) and every URL pattern
of the back office, the reports and the cashier screen without parameters, or whose
parameters name an object the test has (a customer, a receipt, a model's object id). Error
pages (404, 403) and the sign-in pages come along. Each page's readable texts go through
tests/i18n_check.py (the method, and proof that it can fail, are there).

SQLite only is enough: the pages' words do not depend on the database.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from playwright.sync_api import Error as PlaywrightError

from kopilka.customers import card_types
from kopilka.demo import DEMO_PASSWORD, demo_build
from kopilka.merchants.models import Role
from kopilka.programs import services as programs
from kopilka.programs.models import Program
from tests.conftest import SYSTEM
from tests.i18n_check import PAGE_TEXTS_JS, Checker, data_words_of

pytestmark = pytest.mark.sqlite_only  # the words do not depend on the database

STAFF_NAMES = {
    Role.OWNER: "владелец",
    Role.ADMIN: "администратор",
    Role.MARKETER: "маркетолог",
    Role.AUDITOR: "аудитор",
    Role.CASHIER: "кассир",
}
# Names of URL patterns that are not pages: leaving, JSON for widgets, the API.
NOT_PAGES = {"logout", "jsi18n", "autocomplete", "search", "set_language", "view_on_site"}
# Fields whose values are the test's data (names people typed), not interface text.
DATA_FIELDS = {
    "name",
    "first_name",
    "last_name",
    "username",
    "sku",
    "barcode",
    "number",
    "email",
    "terms_url",
    "address",
    "time_zone",
    "currency",
    "phone_region",
    "plan_name",
    "reason",
    "code_word",
    "key_prefix",
}


def patterns(resolver=None, prefix="", namespace=""):
    """(route, name, namespace) of every URL pattern."""
    resolver = resolver or get_resolver()
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            inner = item.namespace or namespace
            yield from patterns(item, prefix + str(item.pattern), inner)
        elif isinstance(item, URLPattern):
            yield prefix + str(item.pattern), item.name, namespace


PARAM_RE = re.compile(r"<(?:\w+:)?(\w+)>")


def first_object(model, merchant):
    objects = model._default_manager.order_by("pk")
    if any(f.name == "merchant" for f in model._meta.fields):
        objects = objects.filter(merchant=merchant)
    return objects.first()


def discover(merchant):
    """(back-office URLs, cashier URLs, URLs left out and why)."""
    from kopilka.sales.models import Receipt

    office, cashier, left_out = [], [], []
    by_name = {}
    for model, _model_admin in admin.site._registry.items():
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        by_name[info] = model
        office.append(reverse(f"admin:{info}_changelist"))
        office.append(reverse(f"admin:{info}_add"))
        obj = first_object(model, merchant)
        if obj is None:
            left_out.append((info, "no object to open"))
            continue
        for view in ("change", "history", "delete"):
            office.append(reverse(f"admin:{info}_{view}", args=[obj.pk]))
    for label in sorted({m._meta.app_label for m in admin.site._registry}):
        office.append(reverse("admin:app_list", kwargs={"app_label": label}))

    customer = merchant.customers.order_by("pk").first()
    receipt = Receipt.objects.filter(merchant=merchant).order_by("pk").first()
    for route, name, namespace in patterns():
        if route.startswith(("api/", "i18n/", "static/")) or name in NOT_PAGES or "(?P" in route:
            continue
        if name is None and route.endswith("<path:object_id>/"):
            continue  # the admin's old-style address of an object: a redirect to its change form
        params = PARAM_RE.findall(route)
        url = "/" + route
        if params == ["object_id"] and namespace == "admin" and name:
            model = next((m for n, m in by_name.items() if name.startswith(n + "_")), None)
            obj = model and first_object(model, merchant)
            if obj is None:
                left_out.append((route, "no object"))
                continue
            url = url.replace(PARAM_RE.search(route).group(0), str(obj.pk))
        elif params == ["customer_id"] and customer is not None:
            url = url.replace(PARAM_RE.search(route).group(0), str(customer.pk))
        elif params == ["receipt_id"] and receipt is not None:
            url = url.replace(PARAM_RE.search(route).group(0), str(receipt.pk))
        elif params:
            left_out.append((route, f"parameters {params}"))
            continue
        (cashier if route.startswith("cashier/") else office).append(url)
    office.append("/admin/no-such-page/")  # 404
    cashier.append("/cashier/no-such-page/")
    return list(dict.fromkeys(office)), list(dict.fromkeys(cashier)), left_out


def data_words():
    values = []
    for model in apps.get_models():
        if not model.__module__.startswith("kopilka.") and model._meta.label != "auth.User":
            continue
        names = [
            f.name
            for f in model._meta.concrete_fields
            if f.name in DATA_FIELDS and not f.choices and f.get_internal_type() != "JSONField"
        ]
        for name in names:
            values += [v for v in model._default_manager.values_list(name, flat=True) if v]
    return data_words_of(values)


@pytest.fixture
def shop(db):
    """The demo merchant (small), with a level and a campaign, staff named in Russian."""
    merchant = demo_build(customers_count=3, months=1).merchant
    program = Program.objects.filter(merchant=merchant).order_by("pk").first()
    silver = programs.level_create(program=program, name="Серебро", priority=1, actor=SYSTEM)
    customer = merchant.customers.order_by("pk").first()
    programs.level_assign(customer=customer, level=silver, reason="Для проверки", actor=SYSTEM)
    card_types.card_type_create(merchant=merchant, name="Золотая", program=program, actor=SYSTEM)
    for role, name in STAFF_NAMES.items():
        get_user_model().objects.filter(username=role).update(
            username=name, first_name=name.capitalize(), last_name="Тестова"
        )
    return merchant


def visit(page, url, language):
    """(status, texts) of a page; a URL that answers GET with an empty error (405: a form's
    POST endpoint) has no texts to read."""
    for attempt in (1, 2, 3):
        try:
            response = page.goto(url, wait_until="load")
            break
        except PlaywrightError as error:
            if "ERR_HTTP_RESPONSE_CODE_FAILURE" in str(error) or "chrome-error:" in str(error):
                return "empty error", []
            if attempt == 3 or "interrupted by another navigation" not in str(error):
                raise
            page.wait_for_timeout(500)  # a script of the last page navigated meanwhile
    page.wait_for_timeout(50)  # Alpine and the charts draw right after "load"
    return (response.status if response else 0), page.evaluate(PAGE_TEXTS_JS)


def new_page(chromium, live_server, language):
    context = chromium.new_context(
        base_url=live_server.url,
        locale={"ru": "ru-RU", "uk": "uk-UA"}[language],
        viewport={"width": 1366, "height": 900},
    )
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    context.set_default_timeout(20_000)
    return context, context.new_page()


def sign_in(page, username, path):
    page.goto(path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("[type=submit]").first.click()
    page.wait_for_load_state("load")


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_every_page_speaks_the_language(chromium, live_server, shop, language):
    office, cashier, left_out = discover(shop)
    checker = Checker(language, data_words=data_words())
    found = defaultdict(set)  # (text, why) -> {(role, url)}
    visited = defaultdict(int)
    statuses = defaultdict(int)

    def sweep(page, role, urls):
        for url in urls:
            status, texts = visit(page, url, language)
            statuses[status] += 1
            visited[role] += 1
            for text, why in checker.problems(texts):
                found[(text, why)].add((role, url))

    context, page = new_page(chromium, live_server, language)
    sweep(page, "anonymous", ["/admin/login/", "/admin/password_reset/", "/cashier/login/"])
    context.close()

    for role in (Role.OWNER, Role.ADMIN, Role.MARKETER, Role.AUDITOR):
        context, page = new_page(chromium, live_server, language)
        sign_in(page, STAFF_NAMES[role], "/admin/login/")
        assert "/admin/login/" not in page.url, f"{role} could not sign in"
        sweep(page, role, office)
        context.close()

    context, page = new_page(chromium, live_server, language)
    sign_in(page, STAFF_NAMES[Role.CASHIER], "/cashier/login/")
    sweep(page, Role.CASHIER, cashier)
    context.close()

    print(
        f"\n{language}: {sum(visited.values())} page visits ({dict(visited)}), "
        f"{len(office)} back-office and {len(cashier)} cashier URLs, statuses {dict(statuses)}"
    )
    print(f"left out: {left_out}")
    print(
        f"data words that are also interface words: {sorted(checker.data_words & checker.english)}"
    )
    report = [
        f"{text!r}: {why}; e.g. {sorted(where)[0][1]} as {sorted(where)[0][0]} "
        f"({len(where)} page visits)"
        for (text, why), where in sorted(found.items())
    ]
    assert not report, f"{len(report)} untranslated texts in {language}:\n" + "\n".join(report)
