"""Issue 14 in a real browser: the demo owner switches a level off from the list, removes
one that nothing refers to (it is gone) and one that history names (it is kept, switched
off), and every step ends on a back-office page saying what happened, never a bare 403."""

from django.contrib.auth import get_user_model

from kopilka.demo import DEMO_PASSWORD, demo_build
from kopilka.programs import services as programs
from kopilka.programs.models import Level, Program
from tests.conftest import SYSTEM

from .conftest import save_screenshot


def log_in_as_demo_owner(page):
    page.goto("/admin/login/")
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("[type=submit]").first.click()
    page.wait_for_load_state("networkidle")


def remove(page, level):
    page.goto(f"/admin/programs/level/{level.pk}/change/")
    page.locator(f"a[href$='/admin/programs/level/{level.pk}/delete/']").first.click()
    page.wait_for_load_state("networkidle")


def test_the_demo_owner_switches_off_and_removes_levels(page, db):
    merchant = demo_build(customers_count=3, months=1).merchant
    program = Program.objects.filter(merchant=merchant).order_by("id").first()
    base = programs.level_create(program=program, name="Базовый", priority=1, actor=SYSTEM)
    silver = programs.level_create(
        program=program, name="Серебро", priority=2, min_spend=100000, actor=SYSTEM
    )
    gold = programs.level_create(
        program=program, name="Золото", priority=3, min_spend=500000, actor=SYSTEM
    )
    customer = merchant.customers.order_by("id").first()
    programs.level_assign(customer=customer, level=gold, reason="Друг владельца", actor=SYSTEM)
    assert get_user_model().objects.filter(username="owner").exists()
    log_in_as_demo_owner(page)

    # Switch "Серебро" off from the list.
    page.goto("/admin/programs/level/")
    page.locator(f"input[name=_selected_action][value='{silver.pk}']").check()
    page.select_option("select[name=action]", "switch_off")
    page.locator("button[name=index]").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Выключено: 1.").is_visible()
    silver.refresh_from_db()
    assert silver.archived_at is not None

    # Remove "Базовый": nothing refers to it, so the page says it will be deleted.
    remove(page, base)
    assert page.get_by_text("на него ничего не ссылается, поэтому оно будет удалено").is_visible()
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("networkidle")
    assert "/admin/programs/level/" in page.url
    assert not Level.objects.filter(pk=base.pk).exists()

    # Remove "Золото": a manual level names it, so it is kept, switched off.
    remove(page, gold)
    assert page.get_by_text("сохранится выключенным (в архиве)").is_visible()
    save_screenshot(page, "level-remove.png")
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("сохранено выключенным").first.is_visible()
    gold.refresh_from_db()
    assert gold.archived_at is not None and gold.assignments.count() == 1

    # A program is never deleted: its delete page is a refusal in the back office's style.
    page.goto(f"/admin/programs/program/{program.pk}/delete/")
    assert page.locator("#refused").is_visible()
    save_screenshot(page, "refusal.png")
    assert page.get_by_text("снимите флажок «Включена»").is_visible()
    assert page.locator("#nav-sidebar, nav, aside").count() >= 1  # the back office's frame
