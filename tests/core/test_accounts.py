"""Accounts that hold: lockout on every login path, trusted client addresses, tokens that expire
and die with the password, password reset by e-mail, two-factor for the secretary and directors,
and a Content-Security-Policy with nothing inline."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from core.models import ApiToken
from core.net import client_ip
from core.services import api_token_issue
from tests.factories import make_director, make_secretary, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's
LOCKED = "Too many failed sign-in attempts for this account"
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "accounts"}}


def token_request(api: APIClient, username: str, password: str, **extra: Any) -> Any:
    body = {"username": username, "password": password, **extra.pop("body", {})}
    return api.post("/api/v1/auth/token/", body, format="json", **extra)


def code_for(device: TOTPDevice, *, ahead: int = 0) -> str:
    """The app's current code (or the next window's: a TOTP device accepts each step once)."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=ahead)
    return str(code).zfill(device.digits)


# --- Lockout ---------------------------------------------------------------------------------


def test_twelve_wrong_passwords_from_twelve_forwarded_addresses_then_the_right_one_is_refused(api: APIClient) -> None:
    make_user(username="alice")
    for i in range(12):
        answer = token_request(api, "alice", f"guess-{i}", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        assert answer.status_code in {400, 429}
    right = token_request(api, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert right.status_code == 429
    assert LOCKED in right.json()["detail"]
    assert "token" not in right.json()
    assert not ApiToken.objects.exists()


def test_the_fifth_failure_locks_the_account(api: APIClient) -> None:
    make_user(username="alice")
    answers = [token_request(api, "alice", "wrong").status_code for _ in range(6)]
    assert answers == [400, 400, 400, 400, 429, 429]


def test_a_locked_account_hears_the_same_message_on_the_form_the_admin_and_the_api(
    api: APIClient, client: Client
) -> None:
    make_user(username="boss", is_staff=True)
    for _ in range(5):
        client.post("/accounts/login/", {"username": "boss", "password": "wrong"})
    form = client.post("/accounts/login/", {"username": "boss", "password": PASSWORD})
    admin = client.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    token = token_request(api, "boss", PASSWORD)
    assert form.status_code == admin.status_code == token.status_code == 429
    assert LOCKED in form.content.decode()
    assert LOCKED in admin.content.decode()
    assert LOCKED in token.json()["detail"]
    assert "_auth_user_id" not in client.session


def test_the_lockout_names_no_account_and_locks_an_unknown_name_alike(api: APIClient) -> None:
    make_user(username="alice")
    for name in ("alice", "nobody-here"):
        for _ in range(5):
            token_request(api, name, "wrong")
    known, unknown = token_request(api, "alice", "x"), token_request(api, "nobody-here", "x")
    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()
    assert "alice" not in known.content.decode()


def test_the_lockout_is_per_account_not_per_address(api: APIClient) -> None:
    make_user(username="alice")
    make_user(username="bob")
    for _ in range(5):
        token_request(api, "alice", "wrong")
    assert token_request(api, "bob", PASSWORD).status_code == 200


def test_the_lockout_ends_after_the_cool_off(api: APIClient, settings: Any) -> None:
    from axes.models import AccessAttempt

    make_user(username="alice")
    for _ in range(5):
        token_request(api, "alice", "wrong")
    assert token_request(api, "alice", PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - datetime.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS + 1)
    )
    assert token_request(api, "alice", PASSWORD).status_code == 200


def test_a_password_reset_by_email_lifts_the_lockout(client: Client) -> None:
    make_user(username="alice", email="alice@example.com")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 429
    link = reset_link(client, "alice@example.com")
    form = client.get(link, follow=True)
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-new-pass-2026", "new_password2": "a-new-pass-2026"}
    )
    assert done.status_code == 302
    assert client.post("/accounts/login/", {"username": "alice", "password": "a-new-pass-2026"}).status_code == 302


# --- Trusted client address ------------------------------------------------------------------


def test_the_throttle_counts_by_remote_addr_not_by_x_forwarded_for(api: APIClient, settings: Any) -> None:
    settings.CACHES = LOCMEM
    cache.clear()
    # Different accounts, so the lockout stays out of it: only the address is counted.
    answers = [
        token_request(api, f"user{i}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(11)
    ]
    assert answers[:10] == [400] * 10
    assert answers[10] == 429


def test_behind_one_trusted_proxy_the_address_it_saw_is_the_client() -> None:
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7", REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "10.0.0.1"  # NUM_PROXIES=0 (the default): the header is ignored


def test_with_num_proxies_the_rightmost_forwarded_address_counts(settings: Any) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7", REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "198.51.100.7"  # what the proxy appended; the client wrote 6.6.6.6


# --- Tokens ----------------------------------------------------------------------------------


def test_a_token_is_issued_with_its_expiry_and_stored_only_as_a_digest(api: APIClient, settings: Any) -> None:
    make_user(username="alice")
    answer = token_request(api, "alice", PASSWORD)
    assert answer.status_code == 200
    key = answer.json()["token"]
    token = ApiToken.objects.get()
    assert token.digest != key and key not in token.digest
    assert token.expires_at - token.created_at == settings.TOKEN_TTL
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.post("/api/v1/auth/logout/", {}, format="json").status_code == 204


def test_a_token_after_a_password_change_is_401(api: APIClient) -> None:
    alice = make_user(username="alice")
    key = token_request(api, "alice", PASSWORD).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/polls/").status_code == 200
    alice.set_password("another-pass-2026")
    alice.save()
    assert api.get("/api/v1/polls/").status_code == 401


def test_a_token_after_a_password_change_through_the_site_is_401(api: APIClient, client: Client) -> None:
    alice = make_user(username="alice")
    key = token_request(api, "alice", PASSWORD).json()["token"]
    client.force_login(alice)
    changed = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "another-pass-2026", "new_password2": "another-pass-2026"},
    )
    assert changed.status_code == 302
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.post("/api/v1/auth/logout/", {}, format="json").status_code == 401


def test_an_expired_token_is_401(api: APIClient) -> None:
    key, token = api_token_issue(user=make_user())
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=31), expires_at=timezone.now() - datetime.timedelta(days=1)
    )
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    answer = api.post("/api/v1/auth/logout/", {}, format="json")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Token"


def test_logout_revokes_the_token_used_and_no_other(api: APIClient) -> None:
    alice = make_user()
    used, _ = api_token_issue(user=alice)
    other, _ = api_token_issue(user=alice)
    api.credentials(HTTP_AUTHORIZATION=f"Token {used}")
    assert api.post("/api/v1/auth/logout/", {}, format="json").status_code == 204
    assert api.post("/api/v1/auth/logout/", {}, format="json").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {other}")
    assert api.post("/api/v1/auth/logout/", {"all": True}, format="json").status_code == 204
    assert not ApiToken.objects.filter(user=alice).exists()


def test_a_deactivated_account_s_token_is_401(api: APIClient) -> None:
    alice = make_user()
    key, _ = api_token_issue(user=alice)
    alice.is_active = False
    alice.save()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.post("/api/v1/auth/logout/", {}, format="json").status_code == 401


# --- Password reset and change -------------------------------------------------------------


def reset_link(client: Client, email: str) -> str:
    mail.outbox.clear()
    sent = client.post("/accounts/password/reset/", {"email": email})
    assert sent.status_code == 302
    assert len(mail.outbox) == 1
    match = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", str(mail.outbox[0].body))
    assert match, mail.outbox[0].body
    return match.group(1)


def test_the_login_page_links_to_the_password_reset(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in page
    assert "Forgot your password?" in page


def test_a_password_reset_by_email_sets_a_new_password_and_the_link_works_once(client: Client) -> None:
    make_user(username="alice", email="alice@example.com")
    link = reset_link(client, "alice@example.com")
    form = client.get(link, follow=True)
    assert 'name="new_password1"' in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "a-new-pass-2026", "new_password2": "a-new-pass-2026"}, follow=True)
    assert "Your new password is set" in done.content.decode()
    assert Client().login(username="alice", password="a-new-pass-2026")
    again = client.get(link, follow=True).content.decode()
    assert "This link has been used or has expired." in again


def test_a_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(client: Client) -> None:
    answer = client.post("/accounts/password/reset/", {"email": "nobody@example.com"}, follow=True)
    assert "If an account has that address" in answer.content.decode()
    assert mail.outbox == []


def test_the_reset_email_and_pages_speak_italian(client: Client) -> None:
    make_user(username="lettore", email="lettore@example.com")
    client.cookies["django_language"] = "it"
    page = client.get("/accounts/password/reset/").content.decode()
    assert "Reimposta la password" in page
    client.post("/accounts/password/reset/", {"email": "lettore@example.com"})
    assert mail.outbox[0].subject == "Quorum: scegli una nuova password"
    assert "Apri questo collegamento" in mail.outbox[0].body


# --- Two-factor ------------------------------------------------------------------------------


@pytest.fixture
def two_factor(settings: Any) -> None:
    settings.REQUIRE_2FA = True
    # django-otp delays the next try after a wrong code (1 s, doubling); the tests try at once.
    settings.OTP_TOTP_THROTTLE_FACTOR = settings.OTP_STATIC_THROTTLE_FACTOR = 0


def enrol(client: Client) -> tuple[TOTPDevice, list[str]]:
    """Through the enrolment page, as a person with an authenticator app would."""
    page = client.get("/accounts/2fa/enrol/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(confirmed=False)
    answer = client.post("/accounts/2fa/enrol/?next=/console/", {"code": code_for(device), "next": "/console/"})
    assert answer.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", answer.content.decode())
    return device, codes


def test_a_secretary_signed_in_with_a_password_alone_is_sent_to_two_factor(two_factor: None, client: Client) -> None:
    client.force_login(make_secretary())
    answer = client.get("/console/")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/2fa/?next=%2Fconsole%2F"
    assert client.get("/accounts/2fa/?next=/console/")["Location"] == "/accounts/2fa/enrol/?next=%2Fconsole%2F"


def test_a_director_must_enrol_and_then_reaches_the_site(two_factor: None, client: Client) -> None:
    director = make_director("ira")
    client.force_login(director.user)
    assert client.get("/proposals/").status_code == 302
    page = client.get("/accounts/2fa/enrol/").content.decode()
    assert "<svg" in page and 'class="qr"' in page
    assert "style=" not in page
    device, codes = enrol(client)
    assert device.__class__.objects.get(pk=device.pk).confirmed
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/proposals/").status_code == 200


def test_a_member_needs_no_second_factor(two_factor: None, client: Client, api: APIClient) -> None:
    client.force_login(make_user(username="alice"))
    assert client.get("/proposals/").status_code == 200
    assert token_request(api, "alice", PASSWORD).status_code == 200


def test_without_require_2fa_the_secretary_signs_in_with_a_password(client: Client, api: APIClient) -> None:
    make_secretary(username="secretary")
    client.force_login(make_secretary())
    assert client.get("/console/").status_code == 200
    assert token_request(api, "secretary", PASSWORD).status_code == 200


def test_an_enrolled_secretary_verifies_a_code_in_a_new_session(two_factor: None, client: Client) -> None:
    secretary = make_secretary()
    client.force_login(secretary)
    device, _ = enrol(client)
    fresh = Client()
    fresh.force_login(secretary)
    assert fresh.get("/console/")["Location"].startswith("/accounts/2fa/")
    wrong = fresh.post("/accounts/2fa/", {"code": "000000", "next": "/console/"})
    assert "That code is not valid" in wrong.content.decode()
    right = fresh.post("/accounts/2fa/", {"code": code_for(device, ahead=1), "next": "/console/"})
    assert right["Location"] == "/console/"
    assert fresh.get("/console/").status_code == 200


def test_an_enrolled_account_cannot_enrol_a_second_device_with_a_password_alone(
    two_factor: None, client: Client
) -> None:
    secretary = make_secretary()
    client.force_login(secretary)
    enrol(client)
    intruder = Client()
    intruder.force_login(secretary)
    assert intruder.get("/accounts/2fa/enrol/")["Location"].startswith("/accounts/2fa/")
    assert TOTPDevice.objects.filter(user=secretary).count() == 1


def test_a_recovery_code_works_once(two_factor: None, client: Client) -> None:
    secretary = make_secretary()
    client.force_login(secretary)
    _, codes = enrol(client)
    first = Client()
    first.force_login(secretary)
    assert first.post("/accounts/2fa/", {"code": codes[0], "next": "/console/"})["Location"] == "/console/"
    second = Client()
    second.force_login(secretary)
    again = second.post("/accounts/2fa/", {"code": codes[0], "next": "/console/"})
    assert again.status_code == 200
    assert "That code is not valid" in again.content.decode()
    assert StaticDevice.objects.get(user=secretary).token_set.count() == 9


def test_the_api_refuses_a_token_to_a_secretary_without_a_code(two_factor: None, api: APIClient) -> None:
    secretary = make_secretary(username="secretary")
    client = Client()
    client.force_login(secretary)
    device, codes = enrol(client)
    refused = token_request(api, "secretary", PASSWORD)
    assert refused.status_code == 403
    assert "otp" in refused.json()["detail"]
    assert token_request(api, "secretary", PASSWORD, body={"otp": "123"}).status_code == 403
    issued = token_request(api, "secretary", PASSWORD, body={"otp": code_for(device, ahead=1)})
    assert issued.status_code == 200
    assert token_request(api, "secretary", PASSWORD, body={"otp": codes[1]}).status_code == 200


def test_a_secretary_not_yet_enrolled_gets_no_token(two_factor: None, api: APIClient) -> None:
    make_secretary(username="secretary")
    assert token_request(api, "secretary", PASSWORD, body={"otp": "123456"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_a_token_issued_without_a_code_is_refused_once_two_factor_is_required(api: APIClient, settings: Any) -> None:
    key, _ = api_token_issue(user=make_secretary())
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.post("/api/v1/auth/logout/", {}, format="json").status_code == 204
    key, _ = api_token_issue(user=make_secretary())
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    settings.REQUIRE_2FA = True
    assert api.post("/api/v1/auth/logout/", {}, format="json").status_code == 401


def test_the_session_api_refuses_an_unverified_secretary(two_factor: None, client: Client) -> None:
    client.force_login(make_secretary())
    answer = client.get("/api/v1/polls/")
    assert answer.status_code == 403
    assert "Two-factor" in answer.json()["detail"]


# --- Content-Security-Policy -----------------------------------------------------------------


def test_every_page_carries_a_csp_with_nothing_inline(client: Client) -> None:
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_the_api_docs_page_runs_its_one_script_with_the_response_s_nonce(client: Client) -> None:
    answer = client.get("/api/v1/docs/")
    nonce = re.search(r"'nonce-([^']+)'", answer["Content-Security-Policy"])
    assert nonce
    page = answer.content.decode()
    assert f'<script nonce="{nonce.group(1)}">' in page
    assert "<style" not in page


def test_the_results_bars_need_no_inline_style(client: Client) -> None:
    from tests.factories import make_poll

    poll = make_poll(results_visibility="live")
    page = client.get(f"/polls/{poll.pk}/results/").content.decode()
    assert 'class="bar"' in page
    assert "style=" not in page
