"""Accounts in a browser: a director signs in with a TOTP code, a secretary enrols an
authenticator app, a member resets a forgotten password by e-mail, and the API docs page runs
under the Content-Security-Policy (the conftest fails any page that logs a violation)."""

from __future__ import annotations

import re
from base64 import b32decode
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import PASSWORD, screenshot
from tests.factories import make_director, make_secretary, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def two_factor(settings: Any, live_server: Any) -> None:
    """REQUIRE_2FA as in production (the live server runs in this process, on these settings)."""
    settings.REQUIRE_2FA = True


def code_of(key: bytes, *, ahead: int = 0) -> str:
    """What the authenticator app shows now (or in the next 30 s window: each code works once)."""
    return str(totp(key, drift=ahead)).zfill(6)


def sign_in_with_password(page: Page, username: str, password: str = PASSWORD) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_director_signs_in_with_a_totp_code(
    two_factor: None, new_context: Callable[..., BrowserContext], live_server: Any
) -> None:
    director = make_director("ira")
    device = TOTPDevice.objects.create(user=director.user, name="phone", confirmed=True)
    page = new_context().new_page()
    page.goto("/proposals/")
    page.get_by_role("link", name="Log in").click()
    sign_in_with_password(page, "ira")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.get_by_role("textbox", name="Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".field-error")).to_contain_text("That code is not valid")
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp waits a second after a wrong code
    device.throttling_failure_timestamp = None
    device.save()
    page.get_by_role("textbox", name="Code").fill(code_of(device.bin_key))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/proposals/$"))
    expect(page.locator("header")).to_contain_text("ira")
    screenshot(page, "accounts-director-totp")


def test_a_secretary_enrols_an_authenticator_app_and_keeps_the_recovery_codes(
    two_factor: None, new_context: Callable[..., BrowserContext], live_server: Any
) -> None:
    make_secretary(username="secretary")
    page = new_context().new_page()
    page.goto("/accounts/login/?next=/console/")
    sign_in_with_password(page, "secretary")
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.get_by_role("img", name="QR code of the two-factor secret")).to_be_visible()
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.get_by_role("textbox", name="Code").fill(code_of(b32decode(secret)))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "accounts-recovery-codes")
    page.get_by_role("link", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/console/$"))

    # A new browser: the password alone is not enough; a recovery code is, once.
    other = new_context().new_page()
    other.goto("/accounts/login/?next=/console/")
    sign_in_with_password(other, "secretary")
    other.get_by_role("textbox", name="Code").fill(codes[0])
    other.get_by_role("button", name="Verify").click()
    expect(other).to_have_url(re.compile(r"/console/$"))


def test_a_member_resets_a_forgotten_password_by_email(page: Page, live_server: Any, settings: Any) -> None:
    settings.SITE_URL = live_server.url  # e-mails link to SITE_URL
    make_user(username="alice", email="alice@example.com")
    mail.outbox.clear()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    assert len(mail.outbox) == 1, "the live server runs in this process, with the locmem mail backend"
    link = re.search(r"https?://\S+/accounts/reset/\S+/", str(mail.outbox[0].body))
    assert link, mail.outbox[0].body
    page.goto(link.group(0))
    page.locator("[name=new_password1]").fill("a-new-pass-2026")
    page.get_by_label("New password confirmation").fill("a-new-pass-2026")
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()
    page.get_by_role("link", name="Log in").last.click()
    sign_in_with_password(page, "alice", "a-new-pass-2026")
    expect(page.locator("header")).to_contain_text("alice")
    screenshot(page, "accounts-password-reset")


def test_the_api_docs_render_under_the_content_security_policy(page: Page, live_server: Any) -> None:
    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .information-container")).to_contain_text("Quorum API")
    expect(page.get_by_text("/api/v1/auth/token/").first).to_be_visible()


def test_a_poll_s_results_bars_draw_under_the_content_security_policy(page: Page, live_server: Any) -> None:
    from tests.factories import make_poll

    poll = make_poll(results_visibility="live")
    page.goto(f"/polls/{poll.pk}/results/")
    expect(page.locator("svg.bar").first).to_be_visible()
    assert page.locator("svg.bar").first.bounding_box()["width"] > 50  # type: ignore[index]
