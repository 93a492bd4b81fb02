"""Control numbers: issued at import, kept only as keyed digests, mailed through the secretary's
file, and claimed once by an account, with a lockout after 20 wrong numbers."""

from __future__ import annotations

import csv
import datetime
import io
import os
import stat

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from core.models import AuditEvent
from meetings import control_numbers, holdings
from meetings.control_models import HolderControl
from meetings.models import Holder, RegisterSnapshot
from meetings.register_import import register_import
from tests.factories import make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db

ROWS: list[tuple[str, str, str, int | str]] = [
    ("H1", "Holder One", "one@example.com", 100),
    ("H2", "=HYPERLINK(evil)", "two@example.com", 50),
    ("H3", "Holder Three", "three@example.com", 25),
]


def mailing(register: RegisterSnapshot) -> list[dict[str, str]]:
    with open(holdings.mailing_path(register), encoding="utf-8", newline="") as source:
        return list(csv.DictReader(source))


def number_of(register: RegisterSnapshot, account: str) -> str:
    return next(row["control_number"] for row in mailing(register) if row["holder"] == account)


@pytest.fixture
def register(settings: object) -> RegisterSnapshot:
    with override_settings(REGISTER_LINK_BY_EMAIL=False):
        return make_register(ROWS, outstanding=1000)


def api_for(user: object) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)  # type: ignore[arg-type]
    return client


# --- the pure rules ---------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_every_body_with_its_check_digit_passes_luhn_and_any_other_digit_fails(body: int) -> None:
    digits = f"{body:015d}"
    number = digits + control_numbers.check_digit(digits)
    assert control_numbers.luhn_valid(number)
    assert control_numbers.normalise(number) == number
    for wrong in set("0123456789") - {number[-1]}:
        assert not control_numbers.luhn_valid(digits + wrong)
        assert control_numbers.normalise(digits + wrong) is None


@given(st.integers(min_value=0, max_value=14), st.integers(min_value=1, max_value=9))
def test_a_single_mistyped_digit_is_caught_by_the_check_digit(position: int, shift: int) -> None:
    number = control_numbers.generate()
    typo = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    assert control_numbers.normalise(typo) is None


@given(st.text(max_size=80))
def test_whatever_is_typed_normalises_to_sixteen_luhn_digits_or_to_nothing(typed: str) -> None:
    number = control_numbers.normalise(typed)
    assert number is None or (len(number) == 16 and number.isascii() and control_numbers.luhn_valid(number))


def test_a_generated_number_is_sixteen_digits_that_pass_luhn_and_read_back_when_grouped() -> None:
    for _ in range(200):
        number = control_numbers.generate()
        assert len(number) == 16 and number.isdigit() and control_numbers.luhn_valid(number)
        assert control_numbers.normalise(control_numbers.grouped(number)) == number
        assert control_numbers.normalise(" " + number[:8] + "-" + number[8:] + " ") == number
    assert control_numbers.normalise("4111 1111 1111 1111") == "4111111111111111"
    for malformed in ("", "4111", "4111 1111 1111 111x", "٤١١١١١١١١١١١١١١١", "41111111111111111"):
        assert control_numbers.normalise(malformed) is None


@pytest.mark.parametrize("length", [0, 10, 63, 64, 65, 200])
def test_the_import_s_hmac_from_padded_keys_is_the_stored_digest(length: int) -> None:
    key = bytes(range(256))[:length]
    inner, outer = control_numbers.hmac_pads(key)
    for number in holdings._draw_many(50):
        hashed, outside = inner.copy(), outer.copy()
        hashed.update(number.encode())
        outside.update(hashed.digest())
        assert outside.digest() == control_numbers.digest(number, key)


def test_the_import_s_table_driven_draw_agrees_with_the_pure_check_digit() -> None:
    for number in holdings._draw_many(5000):
        assert len(number) == 16 and control_numbers.luhn_valid(number)
        assert control_numbers.normalise(number) == number


# --- import -----------------------------------------------------------------------------------


def test_every_holder_gets_a_distinct_number_in_a_private_mailing_file(register: RegisterSnapshot) -> None:
    rows = mailing(register)
    assert [row["holder"] for row in rows] == ["H1", "H2", "H3"]
    numbers = [control_numbers.normalise(row["control_number"]) for row in rows]
    assert None not in numbers and len(set(numbers)) == 3
    key = holdings.control_key()
    stored = set(Holder.objects.filter(register=register).values_list("control_digest", flat=True))
    assert {bytes(digest or b"") for digest in stored} == {control_numbers.digest(n or "", key) for n in numbers}
    assert not HolderControl.objects.exists()  # a number has a claim row once it is claimed
    mode = stat.S_IMODE(os.stat(holdings.mailing_path(register)).st_mode)
    assert mode == 0o600


def test_a_second_register_gets_numbers_distinct_from_the_first(register: RegisterSnapshot) -> None:
    other = make_register(ROWS, outstanding=1000)
    first = {row["control_number"] for row in mailing(register)}
    assert first.isdisjoint(row["control_number"] for row in mailing(other))
    assert Holder.objects.filter(control_digest__isnull=False).values("control_digest").distinct().count() == 6


def test_the_number_is_nowhere_in_the_database_in_clear(register: RegisterSnapshot) -> None:
    number = control_numbers.normalise(number_of(register, "H1"))
    assert number is not None
    holder = Holder.objects.get(register=register, account="H1")
    with connection.cursor() as cursor:
        for table in (Holder._meta.db_table, HolderControl._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our tables
            dump = repr(cursor.fetchall())
            assert number not in dump
            assert control_numbers.grouped(number) not in dump
    assert bytes(holder.control_digest or b"") == control_numbers.digest(number, holdings.control_key())


# --- claiming ---------------------------------------------------------------------------------


def test_a_member_claims_a_holding_by_number_through_the_api_and_it_is_on_the_trail(
    register: RegisterSnapshot,
) -> None:
    member = make_user(username="claimant", email="someone-else@example.com")
    response = api_for(member).post(
        "/api/v1/holdings/claim/", {"control_number": number_of(register, "H1")}, format="json"
    )
    holder = Holder.objects.get(register=register, account="H1")
    assert response.status_code == 201
    assert response.json() == {"holder": holder.pk, "register": register.pk, "shares": "100"}
    assert holder.user == member
    assert holder.control.claimed_by == member and holder.control.claimed_at is not None
    event = AuditEvent.objects.get(stream=f"holder:{holder.pk}", action="holding_claimed")
    assert event.actor_id == member.pk
    call_command("verify_audit")  # the new stream verifies like any other


def test_already_claimed_unknown_and_malformed_numbers_get_the_same_400(register: RegisterSnapshot) -> None:
    number = number_of(register, "H1")
    api_for(make_user(username="first")).post("/api/v1/holdings/claim/", {"control_number": number}, format="json")
    client = api_for(make_user(username="second"))
    unknown = "0" * 15 + control_numbers.check_digit("0" * 15)
    answers = [
        client.post("/api/v1/holdings/claim/", {"control_number": typed}, format="json")
        for typed in (number, unknown, "12345", "")
    ]
    assert {answer.status_code for answer in answers} == {400}
    assert len({answer.json()["detail"] for answer in answers}) == 1
    assert Holder.objects.get(register=register, account="H1").user.username == "first"  # type: ignore[union-attr]


def test_twenty_wrong_numbers_lock_the_account_and_then_the_right_number_is_refused(
    register: RegisterSnapshot,
) -> None:
    client = api_for(make_user(username="guesser"))
    for guess in range(20):
        body = f"{guess:015d}"
        wrong = client.post(
            "/api/v1/holdings/claim/", {"control_number": body + control_numbers.check_digit(body)}, format="json"
        )
        assert wrong.status_code == 400
    right = client.post("/api/v1/holdings/claim/", {"control_number": number_of(register, "H1")}, format="json")
    assert right.status_code == 429
    assert Holder.objects.get(register=register, account="H1").user is None
    # Another account is not locked out by the first one's guesses.
    other = api_for(make_user(username="owner"))
    assert (
        other.post("/api/v1/holdings/claim/", {"control_number": number_of(register, "H1")}, format="json").status_code
        == 201
    )


def test_the_claim_page_is_linked_from_the_dashboard_and_claims_a_holding(register: RegisterSnapshot) -> None:
    member = make_user(username="pageclaim")
    client = Client()
    client.force_login(member)
    assert "/holdings/claim/" in client.get("/").content.decode()
    assert client.get("/holdings/claim/").status_code == 200
    refused = client.post("/holdings/claim/", {"control_number": "1234"})
    assert refused.status_code == 400
    assert "cannot be used" in refused.content.decode()
    done = client.post("/holdings/claim/", {"control_number": number_of(register, "H3")})
    assert done.status_code == 302
    assert Holder.objects.get(register=register, account="H3").user == member


def test_the_claim_page_reads_in_italian() -> None:
    client = Client(headers={"accept-language": "it"})
    client.force_login(make_user(username="italiano"))
    page = client.get("/holdings/claim/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Numero di controllo" in page


def test_the_claim_page_and_endpoint_ask_a_visitor_to_sign_in() -> None:
    assert Client().get("/holdings/claim/").status_code == 302
    assert APIClient().post("/api/v1/holdings/claim/", {"control_number": "1"}, format="json").status_code in (
        401,
        403,
    )


# --- e-mail linking is opt-in -----------------------------------------------------------------


@override_settings(REGISTER_LINK_BY_EMAIL=False)
def test_with_email_linking_off_neither_import_nor_sign_up_links_by_email() -> None:
    early = make_user(username="early", email="one@example.com")
    register = make_register(ROWS, outstanding=1000)
    late = make_user(username="late", email="two@example.com")
    assert not Holder.objects.filter(register=register, user__in=[early, late]).exists()


@override_settings(REGISTER_LINK_BY_EMAIL=True)
def test_with_email_linking_on_import_and_sign_up_link_by_email() -> None:
    early = make_user(username="early", email="one@example.com")
    register = make_register(ROWS, outstanding=1000)
    late = make_user(username="late", email="TWO@example.com")
    assert Holder.objects.get(register=register, account="H1").user == early
    assert Holder.objects.get(register=register, account="H2").user == late


def test_an_account_created_after_the_import_is_linked_to_its_holding() -> None:
    register = make_register([("H1", "Late Comer", "late@example.com", 10)], outstanding=10)
    user = make_user(username="late", email="LATE@example.com")
    assert register.holders.get().user == user


# --- the secretary's mailing file ------------------------------------------------------------


def test_the_mailing_csv_is_the_secretarys_alone_formula_safe_and_each_download_audited(
    register: RegisterSnapshot,
) -> None:
    url = f"/api/v1/registers/{register.pk}/mailing.csv"
    assert api_for(make_user(username="nosy")).get(url).status_code == 403
    assert APIClient().get(url).status_code in (401, 403)
    secretary = make_secretary(username="sec")
    response = api_for(secretary).get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["holder", "name", "email", "shares", "control_number"]
    assert rows[2][1] == "'=HYPERLINK(evil)"
    page = Client()
    page.force_login(secretary)
    assert page.get(f"/registers/{register.pk}/mailing.csv").content == response.content
    assert f"/registers/{register.pk}/mailing.csv" in page.get("/console/").content.decode()
    member_page = Client()
    member_page.force_login(make_user(username="nosy2"))
    assert member_page.get(f"/registers/{register.pk}/mailing.csv").status_code == 403
    assert AuditEvent.objects.filter(stream=f"register:{register.pk}", action="mailing_downloaded").count() == 2
    call_command("verify_audit")
    assert api_for(secretary).get("/api/v1/registers/999999/mailing.csv").status_code == 404


def test_a_number_drawn_twice_is_drawn_again_and_the_mailing_file_says_the_new_one(
    register: RegisterSnapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = control_numbers.normalise(number_of(register, "H1"))
    assert taken is not None
    real = holdings._draw_raw
    calls = []

    def first_two_taken(count: int) -> list[bytes]:
        calls.append(count)
        drawn = real(count)
        # The next register's first two holders draw a number already issued: both collide.
        return [taken.encode(), taken.encode(), *drawn[2:]] if len(calls) == 1 else drawn

    monkeypatch.setattr(holdings, "_draw_raw", first_two_taken)
    other = make_register(ROWS, outstanding=1000)
    numbers = [control_numbers.normalise(row["control_number"]) for row in mailing(other)]
    assert taken not in numbers and len(set(numbers)) == 3
    assert calls[1:] == [1, 1], "each colliding holder drew again"
    key = holdings.control_key()
    for row in mailing(other):
        holder = Holder.objects.get(register=other, account=row["holder"])
        assert bytes(holder.control_digest or b"") == control_numbers.digest(
            control_numbers.normalise(row["control_number"]) or "", key
        )
    assert stat.S_IMODE(os.stat(holdings.mailing_path(other)).st_mode) == 0o600


@override_settings(REGISTER_LINK_BY_EMAIL=False)
def test_quoted_cells_and_formulas_reach_the_mailing_file_as_the_register_gave_them() -> None:
    rows: list[tuple[str, str, str, int | str]] = [
        ("Q1", 'Smith, "Junior"', "q1@example.com", 7),
        ("Q2", "+39 Rossi, e figli", "q2@example.com", 8),
        ("@Q3", "Plain", "q3@example.com", "009"),
        ("Q4", "Name,=SUM(A1)", "q4@example.com", 10),
    ]
    text = io.StringIO()
    csv.writer(text).writerows([("holder", "name", "email", "shares"), *rows])
    register = register_import(
        source=io.BytesIO(text.getvalue().encode()),
        record_date=datetime.date(2025, 9, 15),
        shares_outstanding=100,
        actor=None,
    )
    got = mailing(register)
    assert [(r["holder"], r["name"], r["shares"]) for r in got] == [
        ("Q1", 'Smith, "Junior"', "7"),
        ("Q2", "'+39 Rossi, e figli", "8"),
        ("'@Q3", "Plain", "9"),
        ("Q4", "Name,=SUM(A1)", "10"),
    ]
    key = holdings.control_key()
    for row in got:
        holder = Holder.objects.get(register=register, account=row["holder"].removeprefix("'"))
        number = control_numbers.normalise(row["control_number"])
        assert number is not None
        assert bytes(holder.control_digest or b"") == control_numbers.digest(number, key)
