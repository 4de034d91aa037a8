"""Signing in and out of the console in a real browser."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Console, PageFactory
from tests.browser.support import assert_accessible, doc_shot


async def test_sign_in_with_name_and_password(anon_page: Any, console: Console) -> None:
    page = anon_page
    await page.goto("/ui/home")  # not signed in: sent to the sign-in page, then back
    assert "/ui/sign-in" in page.url
    person = console.people["agent"]
    await page.get_by_label("Name", exact=True).fill(person.name)
    await page.get_by_label("Password", exact=True).fill(person.password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_url("**/ui/home")
    assert await page.get_by_text(person.name, exact=True).is_visible()


async def test_sign_in_with_an_api_token(anon_page: Any, console: Console) -> None:
    page = anon_page
    await page.goto("/ui/sign-in")
    await page.get_by_label("API token", exact=True).fill(console.people["auditor"].token)
    await page.get_by_role("button", name="Sign in with token").click()
    await page.wait_for_load_state()
    assert "/ui/sign-in" not in page.url
    # In the header: the auditor lands on the audit log, whose rows name erin as an actor.
    header = page.get_by_role("navigation", name="Main")
    assert await header.get_by_text("erin", exact=True).is_visible()


async def test_a_wrong_password_is_named_on_the_page(anon_page: Any, console: Console) -> None:
    page = anon_page
    await page.goto("/ui/sign-in")
    await page.get_by_label("Name", exact=True).fill(console.people["compliance"].name)
    await page.get_by_label("Password", exact=True).fill("not the password at all")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "The name or password is not right." in await alert.inner_text()
    assert "/ui/sign-in" in page.url


async def test_sign_out_ends_the_session(page_for: PageFactory) -> None:
    page = await page_for("compliance2")
    await page.goto("/ui/home")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/ui/sign-in")
    assert await page.get_by_text("You are signed out.").is_visible()
    await page.goto("/ui/home")
    assert "/ui/sign-in" in page.url


async def test_the_sign_in_page_is_accessible(anon_page: Any) -> None:
    await anon_page.goto("/ui/sign-in")
    await assert_accessible(anon_page)
    await doc_shot(anon_page, "sign-in")


async def test_the_home_page_is_accessible(page_for: PageFactory) -> None:
    page = await page_for("admin")
    await page.goto("/ui/home")
    await assert_accessible(page)
