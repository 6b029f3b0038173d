"""Programs, rules, levels and campaigns edited in the back office: every save goes through
the programs services (audited), and their refusals come back as form errors."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kopilka.catalog import services as catalog
from kopilka.merchants.models import AuditEvent, Role
from kopilka.programs.models import AccrualRule, Campaign, Level, LevelAssignment, Program
from tests.conftest import SYSTEM

from .admin_client import page_form_data, staff_user


@pytest.fixture
def owner(client, merchant):
    client.force_login(staff_user(merchant, Role.OWNER))
    return client


@pytest.fixture
def bar(merchant):
    return catalog.segment_create(merchant=merchant, name="Бар", actor=SYSTEM)


def inline_rows(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{key}": value for key, value in row.items()})
    return data


def test_program_settings_and_caps_are_saved_through_the_services(owner, program, bar):
    url = f"/admin/programs/program/{program.pk}/change/"
    data = page_form_data(owner.get(url))
    data.update(max_share_percent="30")
    data.update(inline_rows("segment_caps", [{"segment": bar.pk, "max_share_percent": "10"}]))
    data["_save"] = "1"
    assert owner.post(url, data).status_code == 302
    program.refresh_from_db()
    assert program.max_share_percent == Decimal("30")
    assert [(c.segment, c.max_share_percent) for c in program.segment_caps.all()] == [
        (bar, Decimal("10"))
    ]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"program.update", "program.segment_cap"} <= actions


def test_discount_steps_of_an_accumulative_program_are_saved_through_the_service(owner, merchant):
    program = Program.objects.create(
        merchant=merchant, name="Скидки", kind=Program.Kind.ACCUMULATIVE_DISCOUNT
    )
    url = f"/admin/programs/program/{program.pk}/change/"
    data = page_form_data(owner.get(url))
    data.update(
        inline_rows(
            "discount_steps",
            [
                {"min_purchase_total": "0", "percent": "3"},
                {"min_purchase_total": "10000", "percent": "5"},
            ],
        )
    )
    data["_save"] = "1"
    assert owner.post(url, data).status_code == 302
    assert sorted(program.discount_steps.values_list("min_purchase_total", "percent")) == [
        (0, Decimal("3")),
        (1000000, Decimal("5")),
    ]
    assert AuditEvent.objects.filter(action="program.discount_steps").exists()


def test_removing_a_segment_cap_row_removes_the_cap(owner, program, bar):
    from kopilka.programs import services

    cap = services.segment_cap_set(program=program, segment=bar, max_share_percent=10, actor=SYSTEM)
    url = f"/admin/programs/program/{program.pk}/change/"
    data = page_form_data(owner.get(url))
    data["segment_caps-0-DELETE"] = "on"
    data["_save"] = "1"
    assert owner.post(url, data).status_code == 302
    assert not program.segment_caps.filter(pk=cap.pk).exists()


def test_a_program_added_in_the_back_office_belongs_to_the_owners_merchant(owner, merchant):
    page = owner.get("/admin/programs/program/add/")
    data = page_form_data(page)
    data.update(name="Кешбэк", _save="1")
    assert owner.post("/admin/programs/program/add/", data).status_code == 302
    program = Program.objects.get(name="Кешбэк")
    assert program.merchant == merchant
    assert AuditEvent.objects.filter(action="program.create", object_id=str(program.pk)).exists()


def test_an_accrual_rule_with_steps_is_set_and_replaced_as_a_whole(owner, program, bar):
    add = "/admin/programs/accrualrule/add/"
    data = {"program": program.pk, "name": "Шаги", "segments": [bar.pk], "_save": "1"}
    data.update(
        inline_rows(
            "steps",
            [
                {"min_receipt_total": "0", "percent": "2"},
                {"min_receipt_total": "5000.00", "percent": "5"},
            ],
        )
    )
    assert owner.post(add, data).status_code == 302
    rule = AccrualRule.objects.get(program=program)
    assert sorted(rule.steps.values_list("min_receipt_total", "percent")) == [
        (0, Decimal("2")),
        (500000, Decimal("5")),
    ]
    url = f"/admin/programs/accrualrule/{rule.pk}/change/"
    data = page_form_data(owner.get(url))
    data["steps-1-DELETE"] = "on"
    data["_save"] = "1"
    assert owner.post(url, data).status_code == 302
    assert list(rule.steps.values_list("percent", flat=True)) == [Decimal("2")]


def test_a_level_with_segment_figures_is_created_and_updated_through_the_services(
    owner, program, bar
):
    data = {
        "program": program.pk,
        "name": "Золото",
        "priority": "2",
        "window_days": "0",
        "min_spend": "1000",
        "min_visits": "0",
        "cashback_percent": "7",
        "_save": "1",
    }
    data.update(inline_rows("segments", [{"segment": bar.pk, "min_spend": "500,50"}]))
    assert owner.post("/admin/programs/level/add/", data).status_code == 302
    level = Level.objects.get(program=program)
    # Amounts are typed in currency units and kept in kopecks.
    assert (level.min_spend, [(s.segment, s.min_spend) for s in level.segments.all()]) == (
        100_000,
        [(bar, 50_050)],
    )

    url = f"/admin/programs/level/{level.pk}/change/"
    data = page_form_data(owner.get(url))
    data.update(cashback_percent="8", _save="1")
    assert owner.post(url, data).status_code == 302
    level.refresh_from_db()
    assert level.cashback_percent == Decimal("8")
    assert AuditEvent.objects.filter(action="level.update").exists()


def test_a_service_refusal_is_shown_on_the_form_and_nothing_is_written(owner, program, bar):
    data = {
        "program": program.pk,
        "name": "Серебро",
        "priority": "1",
        "window_days": "0",
        "min_spend": "1000",
        "min_visits": "0",
        "_save": "1",
    }
    data.update(inline_rows("segments", [{"segment": bar.pk, "min_spend": "5000"}]))
    response = owner.post("/admin/programs/level/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["min_spend"]
    assert response.context["adminform"].form.data["name"] == "Серебро"
    assert not Level.objects.exists()


def test_a_manual_level_is_assigned_with_its_reason_and_audited(
    owner, merchant, program, make_customer
):
    from kopilka.programs import services

    level = services.level_create(program=program, name="VIP", priority=1, actor=SYSTEM)
    customer = make_customer()
    response = owner.post(
        "/admin/programs/levelassignment/add/",
        {"customer": customer.pk, "level": level.pk, "reason": "Друг владельца", "_save": "1"},
    )
    assert response.status_code == 302
    assignment = LevelAssignment.objects.get()
    assert (assignment.customer, assignment.level) == (customer, level)
    event = AuditEvent.objects.get(action="level.assign")
    assert event.reason == "Друг владельца" and event.actor.startswith("user:")


def test_a_campaign_set_to_start_tomorrow_starts_at_the_next_local_midnight(owner, merchant):
    page = owner.get("/admin/programs/campaign/add/")
    data = page_form_data(page)
    data.update(name="Завтра", kind="multiplier", multiplier="2", starts_next_day="on")
    data["_save"] = "1"
    assert owner.post("/admin/programs/campaign/add/", data).status_code == 302
    campaign = Campaign.objects.get(name="Завтра")
    local = campaign.starts_at.astimezone(ZoneInfo(merchant.time_zone))
    today = timezone.now().astimezone(ZoneInfo(merchant.time_zone)).date()
    assert (local.date() - today).days == 1 and (local.hour, local.minute) == (0, 0)
    assert campaign.merchant == merchant


def test_a_marketer_edits_a_campaign_but_only_reads_the_program(client, merchant, program):
    client.force_login(staff_user(merchant, Role.MARKETER))
    program_page = client.get(f"/admin/programs/program/{program.pk}/change/")
    assert b'name="_save"' not in program_page.content
    data = page_form_data(client.get("/admin/programs/campaign/add/"))
    data.update(name="Осень", kind="extra_percent", extra_percent="2", _save="1")
    assert client.post("/admin/programs/campaign/add/", data).status_code == 302
    assert Campaign.objects.filter(name="Осень", merchant=merchant).exists()


def test_an_accrual_rule_is_deleted_through_the_service_by_an_owner_only(client, merchant, program):
    from kopilka.programs import services

    rule = services.accrual_rule_set(program=program, steps=[(0, 3)], actor=SYSTEM)
    url = f"/admin/programs/accrualrule/{rule.pk}/delete/"
    client.force_login(staff_user(merchant, Role.MARKETER))
    assert client.post(url, {"post": "yes"}).status_code == 403
    client.force_login(staff_user(merchant, Role.OWNER))
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not AccrualRule.objects.exists()
    assert AuditEvent.objects.filter(action="program.accrual_rule_delete").exists()


@pytest.fixture
def vip_until_next_month(program, make_customer):
    from kopilka.programs import services

    level = services.level_create(program=program, name="VIP", priority=1, actor=SYSTEM)
    customer = make_customer()
    return services.level_assign(
        customer=customer,
        level=level,
        until=timezone.now() + timedelta(days=30),
        reason="Друг владельца",
        actor=SYSTEM,
    )


def test_a_manual_level_is_ended_early_with_a_reason_and_audited(
    owner, program, vip_until_next_month
):
    from kopilka.programs.standing import customer_level_inputs

    assignment = vip_until_next_month
    url = f"/admin/programs/levelassignment/{assignment.pk}/change/"
    data = page_form_data(owner.get(url))
    assert "customer" not in data and "level" not in data  # shown, not editable
    data.update(end_now="on", change_reason="Ошибка кассира", _save="1")

    assert owner.post(url, data).status_code == 302

    assignment.refresh_from_db()
    assert assignment.until <= timezone.now()
    customer = assignment.customer
    inputs = customer_level_inputs(customer=customer, program=program, now=timezone.now())
    assert inputs.manual_level_id is None
    event = AuditEvent.objects.get(action="level.assignment_end")
    assert event.reason == "Ошибка кассира" and event.data["level"] == assignment.level_id


def test_a_manual_levels_end_moves_later_but_never_into_the_past(owner, vip_until_next_month):
    assignment = vip_until_next_month
    url = f"/admin/programs/levelassignment/{assignment.pk}/change/"
    local = timezone.localtime()
    for when, accepted in ((local - timedelta(days=1), False), (local + timedelta(days=90), True)):
        data = page_form_data(owner.get(url))
        data.update(
            until_0=when.strftime("%Y-%m-%d"),
            until_1=when.strftime("%H:%M:%S"),
            change_reason="Продлили",
            _save="1",
        )
        response = owner.post(url, data)
        assert (response.status_code == 302) == accepted
        if not accepted:
            assert response.context["adminform"].form.errors["until"]
    assignment.refresh_from_db()
    assert assignment.until.date() == (local + timedelta(days=90)).date()
    assert AuditEvent.objects.filter(action="level.assignment_end").count() == 1


def test_ending_a_manual_level_needs_a_reason_and_a_new_end(owner, vip_until_next_month):
    assignment = vip_until_next_month
    url = f"/admin/programs/levelassignment/{assignment.pk}/change/"
    data = page_form_data(owner.get(url))
    for change in ({"end_now": "on", "change_reason": ""}, {"until_0": "", "until_1": ""}):
        response = owner.post(url, {**data, "change_reason": "Причина", **change, "_save": "1"})
        assert response.status_code == 200
    before = assignment.until
    assignment.refresh_from_db()
    assert assignment.until == before
    assert not AuditEvent.objects.filter(action="level.assignment_end").exists()


# --- issue 14: switching off, removing, refusals ----------------------------------------------


def test_an_owner_removes_a_level_without_history_and_it_is_gone(owner, program):
    from kopilka.programs import services

    gold = services.level_create(program=program, name="Золото", priority=1, actor=SYSTEM)
    url = f"/admin/programs/level/{gold.pk}/delete/"
    confirm = owner.get(url)
    assert confirm.status_code == 200
    assert "на него ничего не ссылается, поэтому оно будет удалено" in confirm.content.decode()
    assert owner.post(url, {"post": "yes"}).status_code == 302
    assert not Level.objects.filter(pk=gold.pk).exists()
    assert AuditEvent.objects.filter(action="level.remove").exists()


def test_an_owner_removing_a_level_with_history_archives_it(owner, program, make_customer):
    from kopilka.programs import services

    gold = services.level_create(program=program, name="Золото", priority=1, actor=SYSTEM)
    services.level_assign(customer=make_customer(), level=gold, reason="Друг", actor=SYSTEM)
    url = f"/admin/programs/level/{gold.pk}/delete/"
    assert "сохранится выключенным (в архиве)" in owner.get(url).content.decode()
    done = owner.post(url, {"post": "yes"}, follow=True)
    assert "сохранено выключенным" in done.content.decode()
    gold.refresh_from_db()
    assert gold.archived_at is not None
    assert LevelAssignment.objects.filter(level=gold).count() == 1


def test_levels_are_switched_off_and_on_from_the_list(owner, program):
    from kopilka.programs import services

    gold = services.level_create(program=program, name="Золото", priority=1, actor=SYSTEM)
    url = "/admin/programs/level/"
    owner.post(url, {"action": "switch_off", "_selected_action": [gold.pk], "index": 0})
    gold.refresh_from_db()
    assert gold.archived_at is not None
    assert "Золото" in owner.get(url + "?archived=1").content.decode()
    owner.post(url, {"action": "switch_on", "_selected_action": [gold.pk], "index": 0})
    gold.refresh_from_db()
    assert gold.archived_at is None


def test_a_switched_off_level_is_not_offered_for_a_manual_level(owner, program):
    from kopilka.programs import services

    gold = services.level_create(program=program, name="Золото", priority=1, actor=SYSTEM)
    silver = services.level_create(
        program=program, name="Серебро", priority=2, min_spend=1000, actor=SYSTEM
    )
    services.level_switch(level=silver, on=False, actor=SYSTEM)
    form = owner.get("/admin/programs/levelassignment/add/").context["adminform"].form
    assert list(form.fields["level"].queryset) == [gold]


def test_a_marketer_deleting_a_level_gets_a_page_saying_why(client, merchant, program):
    from kopilka.programs import services

    gold = services.level_create(program=program, name="Золото", priority=1, actor=SYSTEM)
    client.force_login(staff_user(merchant, Role.MARKETER))
    refused = client.post(f"/admin/programs/level/{gold.pk}/delete/", {"post": "yes"})
    assert refused.status_code == 403
    page = refused.content.decode()
    assert 'id="refused"' in page
    # The role matrix names who may: levels are for owners and administrators.
    assert "Это могут: владелец, администратор." in page
    assert Level.objects.filter(pk=gold.pk).exists()


def test_deleting_a_program_explains_that_it_is_switched_off_instead(owner, program):
    refused = owner.get(f"/admin/programs/program/{program.pk}/delete/")
    assert refused.status_code == 403
    assert "снимите флажок «Включена»" in refused.content.decode()


def test_an_every_0th_item_campaign_is_refused_on_the_form(owner, merchant):
    data = page_form_data(owner.get("/admin/programs/campaign/add/"))
    data.update(name="Ноль", kind="nth_free", n="0", _save="1")
    response = owner.post("/admin/programs/campaign/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["n"]
    assert not Campaign.objects.exists()


def test_the_cap_fields_explain_which_cap_wins(owner, program):
    page = owner.get(f"/admin/programs/program/{program.pk}/change/").content.decode()
    assert "от самого частного" in page


def test_a_combined_program_is_set_up_in_one_form_with_its_discount_and_bonus_fields(
    owner, merchant
):
    page = owner.get("/admin/programs/program/add/")
    text = page.content.decode()
    for field in ("fixed_discount_percent", "max_share_percent", "lifetime_start"):
        assert f'name="{field}"' in text
    assert 'value="combined"' in text
    data = page_form_data(page)
    data.update(
        name="Скидка и бонусы",
        kind="combined",
        fixed_discount_percent="10",
        freeze_days="14",
        lifetime_days="90",
        lifetime_start="accrual",
        _save="1",
    )
    assert owner.post("/admin/programs/program/add/", data).status_code == 302
    program = Program.objects.get(name="Скидка и бонусы")
    assert (program.kind, program.fixed_discount_percent) == ("combined", Decimal("10"))
    assert program.lifetime_start == "accrual"


def test_a_freeze_that_would_burn_the_bonuses_unused_is_refused_on_the_form(owner, program):
    url = f"/admin/programs/program/{program.pk}/change/"
    data = page_form_data(owner.get(url))
    data.update(freeze_days="30", lifetime_days="30", lifetime_start="accrual", _save="1")
    response = owner.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "сгорят" in " ".join(errors["freeze_days"])
    program.refresh_from_db()
    assert (program.freeze_days, program.lifetime_days) == (0, None)
