"""A staff member who forgot the password gets back in through the letter, in a real browser."""

import re

from django.core import mail

from .conftest import save_screenshot


def test_a_forgotten_password_is_replaced_through_the_emailed_link(page, make_staff):
    owner = make_staff("owner")
    owner.email = "owner@example.com"
    owner.save(update_fields=["email"])

    page.goto("/admin/login/")
    page.locator("a.password-reset-link").click()
    page.fill("input[name=email]", "owner@example.com")
    page.locator("[type=submit]").click()
    page.wait_for_url("**/admin/password_reset/done/")
    [letter] = mail.outbox
    [path] = re.findall(r"https?://[^/\s]+(/admin/reset/\S+/)", letter.body)

    page.goto(path)
    save_screenshot(page, "password-reset.png")
    page.fill("input[name=new_password1]", "brand-new-pass-7391")
    page.fill("input[name=new_password2]", "brand-new-pass-7391")
    page.locator("[type=submit]").click()
    page.wait_for_url("**/admin/reset/done/")
    page.get_by_role("link", name="Войти").click()
    page.wait_for_url("**/admin/login/")

    page.fill("input[name=username]", owner.get_username())
    page.fill("input[name=password]", "brand-new-pass-7391")
    page.locator("[type=submit]").first.click()
    page.wait_for_url("**/admin/start/")  # a new merchant's owner lands on the start page
    assert "login" not in page.url
