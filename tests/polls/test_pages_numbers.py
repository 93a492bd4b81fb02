"""Issue 18, "Pages and numbers": what a new user trips over in the pages, each with the test
that would have caught it (dates, wording by status, rounding, the what-if table without
quorum, options that differ only in case, the console's labels and landings, empty states)."""

from __future__ import annotations

import datetime
import html
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from meetings.models import Meeting
from meetings.services import holders_link_user, item_ballot_cast
from polls import certification, kinds, results, services
from polls.ballots import ballot_cast
from polls.exceptions import InvalidPollData
from polls.models import Option, Poll, PollStatus
from tests.factories import make_item, make_meeting, make_poll, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_and_no_cached_counts() -> Any:
    """English messages whatever an earlier test left active; and results cache the
    active-account count for a minute, while later tests count their queries."""
    from django.core.cache import cache

    with translation.override("en"):
        yield
    cache.clear()


def page_of(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    text = html.unescape(response.content.decode())
    return text[text.index("<main") : text.index("</main>")]


@pytest.fixture
def secretary() -> Any:
    return make_secretary()


@pytest.fixture
def console(client: Client, secretary: Any) -> Client:
    client.force_login(secretary)
    return client


# --- Dates: one style per locale -----------------------------------------------------------


def test_a_poll_page_prints_dates_without_a_doubled_full_stop_or_a_m(client: Client) -> None:
    poll = make_poll(title="Dated")
    page = page_of(client, f"/polls/{poll.pk}/")
    closes = timezone.localtime(poll.closes_at)
    assert f"{closes.day} {closes:%b} {closes.year}, {closes:%H:%M}</time>." in page
    assert "a.m." not in page and "p.m." not in page
    assert ".." not in re.sub(r"<[^>]+>", "", page)


def test_english_dates_read_day_month_year_in_every_format() -> None:
    from django.utils.formats import date_format

    moment = timezone.make_aware(datetime.datetime(2026, 12, 3, 11, 35))
    with translation.override("en"):
        assert date_format(moment.date(), "DATE_FORMAT") == "3 Dec 2026"
        assert date_format(moment, "DATETIME_FORMAT") == "3 Dec 2026, 11:35"
        assert date_format(moment, "SHORT_DATETIME_FORMAT") == date_format(moment, "DATETIME_FORMAT")


def test_a_proposal_timeline_prints_its_times_in_the_style_of_the_rest(client: Client) -> None:
    from tests.factories import make_proposal

    proposer = make_user(username="proposer")
    proposal = make_proposal(proposer)
    client.force_login(proposer)
    page = page_of(client, f"/proposals/{proposal.pk}/")
    stamps = re.findall(r'<time datetime="[^"]+">([^<]+)</time>', page)
    assert stamps, "the timeline shows when each event happened"
    assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}", stamp) for stamp in stamps), stamps
    assert not re.search(r"\d{2}/\d{2}/\d{4}", page)


# --- Wording by status ---------------------------------------------------------------------


def test_a_closed_poll_no_longer_offers_to_change_the_vote(client: Client) -> None:
    poll = make_poll(status=PollStatus.CLOSED)
    page = page_of(client, f"/polls/{poll.pk}/")
    assert "You may change your vote until it closes" not in page
    assert "Voting has ended." in page


def test_an_open_poll_still_says_the_vote_can_change(client: Client) -> None:
    page = page_of(client, f"/polls/{make_poll().pk}/")
    assert "You may change your vote until it closes." in page


def test_a_scheduled_poll_shows_its_options(client: Client) -> None:
    poll = make_poll(
        options=("Invest", "Do not invest"), status=PollStatus.SCHEDULED, opens_in=datetime.timedelta(days=1)
    )
    page = page_of(client, f"/polls/{poll.pk}/")
    assert "Voting has not started yet." in page
    assert "<li>Invest</li>" in page and "<li>Do not invest</li>" in page


def _vote_yes(poll: Poll) -> None:
    voter = make_user()
    ballot_cast(poll_id=poll.pk, actor=voter, option_id=poll.options.get(label="Yes").pk)


def test_an_open_polls_results_say_leading_and_a_closed_polls_say_winner(client: Client) -> None:
    poll = make_poll()
    _vote_yes(poll)
    page = page_of(client, f"/polls/{poll.pk}/results/")
    assert re.search(r"<dt>Leading</dt>\s*<dd>Yes</dd>", page)
    assert "Winner" not in page
    assert APIClient().get(f"/api/v1/polls/{poll.pk}/results/").json()["final"] is False
    services.poll_close(poll=poll)
    page = page_of(client, f"/polls/{poll.pk}/results/")
    assert re.search(r"<dt>Winner</dt>\s*<dd>Yes</dd>", page)
    body = APIClient().get(f"/api/v1/polls/{poll.pk}/results/").json()
    assert body["final"] is True and body["winner"]["label"] == "Yes"


# --- Turnout rounds ------------------------------------------------------------------------


def test_turnout_rounds_to_the_nearest_tenth_like_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    poll = make_poll()
    Option.objects.filter(poll=poll, label="Yes").update(votes=29, weight=29)
    monkeypatch.setattr(kinds.BallotForm, "eligible_voters", lambda self, poll: 37)
    live = results.live_results(poll=poll)
    assert live.turnout.percent == Decimal("78.4")  # 78.378...: cut it would be 78.3


def test_turnout_rounds_halves_up_with_exact_integers(monkeypatch: pytest.MonkeyPatch) -> None:
    poll = make_poll()
    Option.objects.filter(poll=poll, label="Yes").update(votes=1, weight=1)
    monkeypatch.setattr(kinds.BallotForm, "eligible_voters", lambda self, poll: 2000)
    assert results.live_results(poll=poll).turnout.percent == Decimal("0.1")  # 0.05% rounds up


# --- The what-if table respects quorum -------------------------------------------------------


@pytest.fixture
def meeting_without_quorum() -> Meeting:
    register = make_register(
        [("H-1", "Yolanda Fund", "yolanda@example.com", 100), ("H-2", "Quiet Holder", "quiet@example.com", 900)],
        outstanding=1_000,
    )
    return make_meeting(register)


def _all_for(item: Poll) -> None:
    voter = make_user(username=f"yolanda-{item.pk}", email="yolanda@example.com")
    holders_link_user(user=voter)
    item_ballot_cast(poll_id=item.pk, actor=voter, choice="for", holder_id=None)


def test_without_quorum_no_what_if_row_passes_in_the_page_the_api_and_the_record(
    client: Client, meeting_without_quorum: Meeting, secretary: Any
) -> None:
    item = make_item(meeting_without_quorum)
    _all_for(item)
    services.poll_close(poll=item)
    for stage in ("closed", "certified"):
        body = APIClient().get(f"/api/v1/polls/{item.pk}/results/").json()
        assert body["outcome"]["reason"] == "no quorum"
        assert [row["passed"] for row in body["what_if"]] == [False, False, False, False], stage
        assert {row["reason"] for row in body["what_if"]} == {"no quorum"}
        page = page_of(client, f"/polls/{item.pk}/results/")
        assert "would pass" not in page and ">passes<" not in page
        assert "would fail: no quorum" in page and "fails: no quorum" in page
        if stage == "closed":
            certification.poll_certify(poll=item, actor=secretary)
    item.refresh_from_db()
    assert item.certified_result is not None
    assert [row["passed"] for row in item.certified_result["what_if"]] == [False] * 4


def test_with_quorum_the_what_if_rows_keep_their_own_verdicts(meeting_without_quorum: Meeting) -> None:
    meeting_without_quorum.quorum_numerator, meeting_without_quorum.quorum_denominator = 1, 20
    meeting_without_quorum.save()
    item = make_item(meeting_without_quorum)
    _all_for(item)
    body = results.results_json(results.live_results(poll=Poll.objects.get(pk=item.pk)))
    assert {row["standard"]: row["passed"] for row in body["what_if"]} == {
        "votes_cast": True,
        "present_and_entitled": True,
        "outstanding": False,
        "plurality": True,
    }
    assert {row["reason"] for row in body["what_if"]} == {""}


# --- One spelling per option -----------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [
        ("Yes", "yes"),
        ("Yes", "YES "),
        ("Yes", "\uff39\uff45\uff53"),
        ("Do not invest", "do  not\tinvest"),
        ("Straße", "STRASSE"),
    ],
)
def test_options_differing_only_in_case_width_or_spacing_are_refused(labels: tuple[str, str]) -> None:
    with pytest.raises(InvalidPollData, match="distinct"):
        make_poll(options=(*labels, "No"))
    assert not Poll.objects.exists()


def test_option_labels_are_stored_with_their_spacing_folded() -> None:
    poll = make_poll(options=("  Invest   now ", "\uff37\uff41\uff49\uff54"))
    assert list(poll.options.values_list("label", flat=True)) == ["Invest now", "Wait"]


def test_the_database_refuses_a_second_option_differing_only_in_case() -> None:
    poll = make_poll()
    with pytest.raises(IntegrityError), transaction.atomic():
        Option.objects.create(poll=poll, label="YES", position=9)


def test_the_api_answers_400_to_yes_and_yes(api: APIClient, secretary: Any) -> None:
    api.force_authenticate(secretary)
    now = timezone.now()
    payload = {
        "title": "Twice",
        "kind": "public",
        "options": [{"label": "Yes"}, {"label": "yes"}],
        "opens_at": (now + datetime.timedelta(hours=1)).isoformat(),
        "closes_at": (now + datetime.timedelta(days=1)).isoformat(),
    }
    response = api.post("/api/v1/polls/", payload, format="json")
    assert response.status_code == 400
    assert "distinct" in str(response.json())
    assert not Poll.objects.exists()


def test_the_console_form_names_the_repeated_option(console: Client) -> None:
    now = timezone.localtime()
    response = console.post(
        "/console/polls/new/",
        {
            "title": "Twice",
            "options": "Yes\nNo\nyes",
            "opens_at": (now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "results_visibility": "live",
            "allow_change": "on",
        },
    )
    assert response.status_code == 400
    assert "“yes” repeats an earlier option" in html.unescape(response.content.decode())
    assert not Poll.objects.exists()


# --- The console: register labels, landings, drafts ------------------------------------------


def _register_of(count: int) -> Any:
    rows: list[tuple[str, str, str, int | str]] = [
        (f"H-{i}", f"Holder {i}", f"h{i}@example.com", 1) for i in range(count)
    ]
    return make_register(rows, outstanding=10_000, record_date=datetime.date(2026, 11, 20))


def test_the_register_picker_reads_a_locale_date_and_grouped_numbers(console: Client) -> None:
    register = _register_of(1_200)
    with translation.override("en"):
        assert str(register) == "Register at 20 Nov 2026 (1,200 holders)"
    with translation.override("it"):
        assert str(register) == "Registro al 20 novembre 2026 (1.200 azionisti)"
    page = page_of(console, "/console/meetings/new/")
    assert "Register at 20 Nov 2026 (1,200 holders)" in page
    assert "2026-11-20" not in page


def test_after_adding_an_item_the_secretary_lands_on_the_meetings_console_view(console: Client) -> None:
    meeting = make_meeting(_register_of(3))
    now = timezone.localtime()
    response = console.post(
        f"/console/meetings/{meeting.pk}/items/new/",
        {
            "title": "Ratify the auditor",
            "standard": "votes_cast",
            "threshold": "1/2",
            "comparator": ">",
            "opens_at": (now + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "results_visibility": "after_close",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/console/meetings/{meeting.pk}/"
    page = page_of(console, response["Location"])
    assert "Ratify the auditor" in page and "Edit the draft Ratify the auditor" in page


def _window() -> dict[str, str]:
    now = timezone.localtime()
    return {
        "opens_at": (now + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "results_visibility": "live",
        "allow_change": "on",
    }


def test_a_draft_poll_is_edited_from_the_console_options_included_and_on_the_trail(console: Client) -> None:
    from core.models import AuditEvent

    poll = make_poll(status=PollStatus.DRAFT, title="Draft question")
    assert "Edit the draft Draft question" in page_of(console, "/console/")
    form = page_of(console, f"/console/polls/{poll.pk}/edit/")
    assert "Draft question" in form and "Yes\nNo" in form
    response = console.post(
        f"/console/polls/{poll.pk}/edit/", {"title": "Better question", "options": "Invest\nWait\nNever", **_window()}
    )
    assert response.status_code == 302
    poll.refresh_from_db()
    assert poll.title == "Better question" and poll.status == PollStatus.DRAFT
    assert list(poll.options.values_list("label", flat=True)) == ["Invest", "Wait", "Never"]
    actions = set(AuditEvent.objects.filter(stream=f"poll:{poll.pk}").values_list("action", flat=True))
    assert {"poll_options_changed", "poll_updated"} <= actions


def test_a_draft_poll_is_deleted_after_confirmation_and_the_deletion_is_on_the_trail(console: Client) -> None:
    from core.models import AuditEvent

    poll = make_poll(status=PollStatus.DRAFT, title="Never mind")
    first = console.post(f"/console/polls/{poll.pk}/delete/")
    assert first.status_code == 200 and "Please confirm" in first.content.decode()
    assert Poll.objects.filter(pk=poll.pk).exists()
    assert console.post(f"/console/polls/{poll.pk}/delete/", {"confirmed": "yes"}).status_code == 302
    assert not Poll.objects.filter(pk=poll.pk).exists()
    event = AuditEvent.objects.get(stream=f"poll:{poll.pk}", action="poll_deleted")
    assert event.payload["title"] == "Never mind"
    from polls.trail_verify import audit_problems

    assert list(audit_problems()) == []  # a deleted draft's stream still verifies


def test_an_open_poll_can_be_neither_edited_nor_deleted_as_a_draft(console: Client, secretary: Any) -> None:
    from polls import poll_services
    from polls.exceptions import IllegalTransition

    poll = make_poll()
    with pytest.raises(IllegalTransition):
        poll_services.poll_delete(poll=poll, actor=secretary)
    console.post(f"/console/polls/{poll.pk}/delete/", {"confirmed": "yes"})
    assert Poll.objects.filter(pk=poll.pk).exists()
    assert console.get(f"/console/polls/{poll.pk}/edit/").status_code == 302
    assert console.post(f"/console/polls/{poll.pk}/edit/", {"title": "Changed", **_window()}).status_code == 302
    poll.refresh_from_db()
    assert poll.title != "Changed"


def test_a_draft_edit_refuses_options_differing_only_in_case(console: Client) -> None:
    poll = make_poll(status=PollStatus.DRAFT)
    response = console.post(f"/console/polls/{poll.pk}/edit/", {"title": "Q", "options": "Yes\nYES", **_window()})
    assert response.status_code == 400
    assert list(poll.options.values_list("label", flat=True)) == ["Yes", "No"]


def test_only_the_secretary_reaches_the_meeting_view_and_the_draft_pages(client: Client) -> None:
    poll = make_poll(status=PollStatus.DRAFT)
    meeting = make_meeting(_register_of(2))
    client.force_login(make_user())
    assert client.get(f"/console/meetings/{meeting.pk}/").status_code == 403
    assert client.get(f"/console/polls/{poll.pk}/edit/").status_code == 403
    assert client.post(f"/console/polls/{poll.pk}/delete/", {"confirmed": "yes"}).status_code == 403
    assert Poll.objects.filter(pk=poll.pk).exists()


# --- Empty states say what to do next --------------------------------------------------------


def test_an_empty_dashboard_says_what_to_do_next(client: Client) -> None:
    client.force_login(make_user())
    page = page_of(client, "/")
    assert "Submit one to put an idea to the board" in page
    assert "No poll is open right now; upcoming polls are listed below." in page
    assert "a shareholder meeting's ballot appears here once the register links a holding" in page


def test_the_secretarys_empty_dashboard_points_to_the_console(console: Client) -> None:
    assert "Create one, or open a draft, from the secretary's console." in page_of(console, "/")


def test_an_empty_proposal_list_says_how_to_start_one(client: Client) -> None:
    assert "Log in to submit one." in page_of(client, "/proposals/")
    client.force_login(make_user())
    page = page_of(client, "/proposals/")
    assert "use Submit a proposal to start one" in page
    assert "Submit one to put an idea to the board" in page


def test_the_empty_states_read_in_italian(client: Client) -> None:
    client.force_login(make_user())
    client.cookies["django_language"] = "it"
    page = page_of(client, "/proposals/")
    assert "usa Presenta una proposta per iniziarne una" in page
    assert "Non hai ancora presentato proposte." in page


def test_the_recorded_polls_chart_labels_follow_the_readers_date_style() -> None:
    from polls import selectors
    from tests.browser.conftest import make_recorded_x_poll

    recorded = make_recorded_x_poll()
    with translation.override("en"), timezone.override(datetime.UTC):
        assert selectors.recorded_history_chart(recorded).x_labels[0][1] == "25 Jul 01:00"
    with translation.override("it"), timezone.override(datetime.UTC):
        assert selectors.recorded_history_chart(recorded).x_labels[0][1] == "25 luglio 01:00"


@given(st.text(max_size=30), st.text(alphabet="abcXYZ \t\u3000", max_size=20))
def test_an_option_label_key_ignores_case_width_and_spacing(label: str, ascii_label: str) -> None:
    from polls.option_labels import option_label_clean, option_label_key

    # Case and spacing: swapping case, doubling spaces or a full-width space change nothing.
    assert option_label_key(ascii_label.swapcase()) == option_label_key(ascii_label)
    assert option_label_key(ascii_label.replace(" ", "  ")) == option_label_key(ascii_label)
    # Any text: padding is ignored, and cleaning twice is cleaning once.
    assert option_label_key(f"  {label}\t ") == option_label_key(label)
    assert option_label_clean(option_label_clean(label)) == option_label_clean(label)


def test_after_editing_a_meeting_the_secretary_lands_on_its_console_view(console: Client) -> None:
    meeting = make_meeting(_register_of(2))
    form = {
        "title": "2026 AGM",
        "date": meeting.date.isoformat(),
        "register": meeting.register_id,
        "quorum": "1/2",
        "quorum_comparator": ">",
    }
    response = console.post(f"/console/meetings/{meeting.pk}/edit/", form)
    assert response.status_code == 302 and response["Location"] == f"/console/meetings/{meeting.pk}/"
    assert "2026 AGM" in page_of(console, response["Location"])


def test_an_italian_poll_page_prints_italian_dates_without_a_doubled_full_stop(client: Client) -> None:
    poll = make_poll(title="Datata")
    client.cookies["django_language"] = "it"
    page = page_of(client, f"/polls/{poll.pk}/")
    closes = timezone.localtime(poll.closes_at)
    with translation.override("it"):
        from django.utils.formats import date_format

        assert f"{date_format(closes, 'DATETIME_FORMAT')}</time>." in page
    assert re.search(r"\d{1,2} [a-z]+ \d{4}, \d{2}:\d{2}</time>\.", page)
    assert ".." not in re.sub(r"<[^>]+>", "", page)


def test_a_draft_that_is_a_proposals_shareholder_vote_is_refused_deletion_with_a_409(secretary: Any) -> None:
    from polls import poll_services
    from polls.exceptions import IllegalTransition
    from proposals.models import Proposal
    from tests.factories import make_proposal

    item = make_item(make_meeting(_register_of(2)), status=PollStatus.DRAFT)
    proposal = make_proposal(make_user())
    Proposal.objects.filter(pk=proposal.pk).update(item=item)
    with pytest.raises(IllegalTransition, match="cannot be deleted") as refused:
        poll_services.poll_delete(poll=item, actor=secretary)
    assert refused.value.status_code == 409
    assert Poll.objects.filter(pk=item.pk).exists()
