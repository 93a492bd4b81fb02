"""Unicode bidirectional controls (issue: spoofed names in the board portal). An override,
embedding or isolate (U+202A-U+202E, U+2066-U+2069) or a directional mark (U+200E, U+200F,
U+061C) makes a one-line title or name display otherwise than it reads: each path that refuses
control characters refuses them too. Plain Arabic and Hebrew letters stay welcome. Runs on
SQLite and on PostgreSQL (the register's COPY path)."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from rest_framework.test import APIClient

from core.validators import CONTROL_CHARACTERS, has_control_characters
from meetings.models import Holder, Meeting, RegisterSnapshot
from meetings.register_import import register_import
from meetings.register_scan import needs_line_reader
from polls.exceptions import InvalidPollData, RegisterInvalid
from polls.models import Poll
from proposals.models import Proposal
from tests.factories import make_poll, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db

OVERRIDES = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
MARKS = ["\u200e", "\u200f", "\u061c"]
BIDI = OVERRIDES + MARKS
ARABIC = "\u0645\u062d\u0645\u062f \u0639\u0644\u064a"  # Muhammad Ali
HEBREW = "\u05d3\u05d5\u05d3 \u05dc\u05d5\u05d9"  # David Levi


@pytest.mark.parametrize("char", BIDI)
def test_every_bidirectional_control_counts_as_a_control_character(char: str) -> None:
    assert has_control_characters(f"Alice{char}Bob")


@pytest.mark.parametrize("name", [ARABIC, HEBREW, "Zo\u00eb O'Brien", "\u00a0Ann", "\u200dZWJ"])
def test_plain_right_to_left_and_accented_letters_are_not_control_characters(name: str) -> None:
    assert CONTROL_CHARACTERS.search(name) is None


@pytest.mark.parametrize("char", BIDI)
def test_the_byte_scan_sends_a_register_with_a_bidirectional_control_to_the_line_reader(char: str) -> None:
    assert needs_line_reader(f"H1,Ali{char}ce,a@example.com,1\n".encode())


@pytest.mark.parametrize("name", [ARABIC, HEBREW])
def test_the_byte_scan_lets_plain_right_to_left_names_through_to_copy(name: str) -> None:
    assert not needs_line_reader(f"H1,{name},a@example.com,1\n".encode())


def imported(text: str) -> RegisterSnapshot:
    return register_import(
        source=io.BytesIO(text.encode()),
        record_date=datetime.date(2025, 9, 15),
        shares_outstanding=10**6,
        actor=None,
    )


@pytest.mark.parametrize("char", BIDI)
@pytest.mark.parametrize("column", ["holder", "name", "email"])
def test_a_register_line_with_a_bidirectional_control_is_named_and_nothing_is_imported(char: str, column: str) -> None:
    cells = {"holder": "H2", "name": "Bob", "email": "bob@example.com"}
    cells[column] = cells[column][:1] + char + cells[column][1:]
    text = f"holder,name,email,shares\nH1,Ann,ann@example.com,1\n{cells['holder']},{cells['name']},{cells['email']},2\n"
    with pytest.raises(RegisterInvalid) as refused:
        imported(text)
    assert refused.value.errors == [f"line 3: control character in {column}"]
    assert not RegisterSnapshot.objects.exists() and not Holder.objects.exists()


@pytest.mark.parametrize("name", [ARABIC, HEBREW])
def test_a_register_holder_with_an_arabic_or_hebrew_name_is_imported_as_written(name: str) -> None:
    imported(f"holder,name,email,shares\nH1,{name},ann@example.com,1\n")
    assert Holder.objects.get().name == name


def post(api: APIClient, url: str, data: dict[str, Any]) -> Any:
    return api.post(url, data, format="json")


@pytest.mark.parametrize("char", ["\u202e", "\u2067", "\u200f"])
def test_a_proposal_title_or_counterparty_with_a_bidirectional_control_is_a_400_naming_it(
    api: APIClient, char: str
) -> None:
    api.force_authenticate(make_user())
    for field in ("title", "counterparty"):
        data = {"title": "Invest", "summary": "A summary.", "kind": "investment", "counterparty": "xAI"}
        data[field] = f"{data[field]}{char}gpj.exe"
        response = post(api, "/api/v1/proposals/", data)
        assert response.status_code == 400, response.content
        assert field in response.json()
    assert not Proposal.objects.exists()


def test_a_proposal_with_an_arabic_title_is_accepted(api: APIClient) -> None:
    api.force_authenticate(make_user())
    data = {"title": ARABIC, "summary": HEBREW, "kind": "investment", "counterparty": HEBREW}
    response = post(api, "/api/v1/proposals/", data)
    assert response.status_code == 201, response.content
    assert Proposal.objects.get().title == ARABIC


@pytest.mark.parametrize(("title", "label"), [("Vote\u202eon", "Yes"), ("Vote", "Y\u2066es"), ("Vote", "\u061cNo")])
def test_a_poll_title_or_option_label_with_a_bidirectional_control_is_a_400(
    api: APIClient, title: str, label: str
) -> None:
    from django.utils import timezone

    api.force_authenticate(make_secretary())
    now = timezone.now()
    data = {
        "title": title,
        "kind": "public",
        "options": [{"label": label}, {"label": "Maybe"}],
        "opens_at": (now + datetime.timedelta(hours=1)).isoformat(),
        "closes_at": (now + datetime.timedelta(days=1)).isoformat(),
    }
    response = post(api, "/api/v1/polls/", data)
    assert response.status_code == 400, response.content
    assert not Poll.objects.exists()


def test_a_meeting_title_with_an_override_is_a_400(api: APIClient) -> None:
    register = make_register([("H1", "Alice", "alice@example.com", 1)], outstanding=1)
    api.force_authenticate(make_secretary())
    response = post(api, "/api/v1/meetings/", {"title": "AGM\u202e5202", "date": "2025-11-06", "register": register.pk})
    assert response.status_code == 400, response.content
    assert "title" in response.json()
    assert not Meeting.objects.exists()


def test_the_poll_service_refuses_a_bidirectional_control_when_called_directly() -> None:
    with pytest.raises(InvalidPollData):
        make_poll(title="Board\u2067 vote")
    assert not Poll.objects.exists()
