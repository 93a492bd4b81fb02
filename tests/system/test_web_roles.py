"""The pages each role works from: the member's dashboard, the director's queue, the
secretary's console (open, close, certify with the recount, register import), and the
friendly pages for refused forms."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from meetings.models import RegisterSnapshot
from meetings.services import item_ballot_cast
from polls import services
from polls.ballots import ballot_cast
from polls.models import Ballot, PollStatus
from proposals import services as proposal_services
from proposals.models import FollowUp
from proposals.workflow import Action
from tests.factories import (
    make_director,
    make_item,
    make_meeting,
    make_poll,
    make_proposal,
    make_register,
    make_secretary,
    make_user,
    register_csv,
    start_review,
)

# The console asks before an action it cannot take back; these tests answer yes.
CONFIRMED = {"confirmed": "yes"}
pytestmark = pytest.mark.django_db


def test_the_dashboard_lists_open_polls_the_member_has_not_voted_in(client: Client) -> None:
    member = make_user()
    waiting = make_poll(title="Waiting for my vote")
    voted = make_poll(title="Already voted")
    ballot_cast(poll_id=voted.pk, actor=member, option_id=voted.options.first().pk)  # type: ignore[union-attr]
    client.force_login(member)
    page = client.get("/").content.decode()
    pending = page.split('id="pending-heading"')[1].split("</section>")[0]
    assert waiting.title in pending
    assert voted.title not in pending


def test_the_dashboard_counts_meeting_items_still_unvoted_for_each_holder(client: Client) -> None:
    alice = make_user(username="alice", email="alice@example.com")
    register = make_register([("A-1", "Alice Example", "alice@example.com", 1_000)], outstanding=10_000)
    meeting = make_meeting(register, title="Annual meeting")
    first, _second = make_item(meeting, title="One"), make_item(meeting, title="Two")
    item_ballot_cast(poll_id=first.pk, actor=alice, choice="for", holder_id=register.holders.get().pk)
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "Annual meeting" in page
    assert "1 item still to vote" in page


def test_the_dashboard_shows_the_members_own_proposals_with_their_status(client: Client) -> None:
    member = make_user()
    make_proposal(member, title="My idea")
    client.force_login(member)
    mine = client.get("/").content.decode().split('id="mine-heading"')[1].split("</section>")[0]
    assert "My idea" in mine
    assert "Draft" in mine


def test_a_director_sees_the_review_queue_and_the_reason_for_a_recusal(client: Client) -> None:
    secretary = make_secretary()
    robyn = make_director("robyn")
    elon = make_director("elon", interests=("xAI",))
    proposal = make_proposal(title="Invest $5B in xAI")
    start_review(proposal, secretary)
    client.force_login(robyn.user)
    queue = client.get("/").content.decode().split('id="review-heading"')[1].split("</section>")[0]
    assert "Invest $5B in xAI" in queue
    assert "review due" in queue
    client.force_login(elon.user)
    page = client.get("/").content.decode()
    assert "recused: interest in xAI" in page


def test_the_console_is_for_the_secretary_alone(client: Client) -> None:
    client.force_login(make_user())
    assert client.get("/console/").status_code == 403
    client.logout()
    assert client.get("/console/").status_code == 302  # to the login page
    client.force_login(make_secretary())
    assert client.get("/console/").status_code == 200


def test_the_console_lists_what_waits_for_the_secretary(client: Client) -> None:
    draft = make_poll(title="A draft poll", status=PollStatus.DRAFT)
    running = make_poll(title="A running poll")
    ended = make_poll(title="An ended poll", status=PollStatus.CLOSED)
    proposal = make_proposal(title="Submitted proposal")
    proposal_services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposal.proposer)
    FollowUp.objects.create(proposal=proposal, due_at=timezone.now() + datetime.timedelta(days=3), note="Report back")
    client.force_login(make_secretary())
    page = client.get("/console/").content.decode()
    for title in (draft.title, running.title, ended.title, "Submitted proposal", "Report back"):
        assert title in page
    assert f"/console/polls/{ended.pk}/certify/" in page


def test_the_secretary_opens_and_closes_a_poll_from_the_console(client: Client) -> None:
    poll = make_poll(status=PollStatus.DRAFT)
    client.force_login(make_secretary())
    opened = client.post(f"/console/polls/{poll.pk}/open/", CONFIRMED, follow=True)
    assert "is open" in opened.content.decode()
    poll.refresh_from_db()
    assert poll.status == PollStatus.OPEN
    client.post(f"/console/polls/{poll.pk}/close/", CONFIRMED)
    poll.refresh_from_db()
    assert poll.status == PollStatus.CLOSED


def test_closing_a_poll_twice_says_why_instead_of_failing(client: Client) -> None:
    poll = make_poll(status=PollStatus.CLOSED)
    client.force_login(make_secretary())
    response = client.post(f"/console/polls/{poll.pk}/close/", CONFIRMED, follow=True)
    assert response.status_code == 200
    assert "Only an open poll can be closed" in response.content.decode()


def test_certification_shows_the_recount_then_freezes_the_result(client: Client) -> None:
    poll = make_poll()
    yes = poll.options.get(label="Yes")
    for _ in range(3):
        ballot_cast(poll_id=poll.pk, actor=make_user(), option_id=yes.pk)
    services.poll_close(poll=poll)
    client.force_login(make_secretary())
    page = client.get(f"/console/polls/{poll.pk}/certify/").content.decode()
    assert "Recount" in page
    assert page.count("matches") == 2
    assert "Certify the result" in page
    response = client.post(f"/console/polls/{poll.pk}/certify/", follow=True)
    assert response.redirect_chain[-1][0] == f"/polls/{poll.pk}/results/"
    poll.refresh_from_db()
    assert poll.status == PollStatus.CERTIFIED


def test_certifying_an_open_poll_is_refused_with_a_message(client: Client) -> None:
    poll = make_poll()
    client.force_login(make_secretary())
    response = client.post(f"/console/polls/{poll.pk}/certify/")
    assert response.status_code == 409
    assert "Only a closed poll can be certified" in response.content.decode()
    poll.refresh_from_db()
    assert poll.status == PollStatus.OPEN


def test_the_console_imports_a_register(client: Client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(make_secretary())
    upload = SimpleUploadedFile("register.csv", register_csv([("A-1", "Alice", "alice@example.com", 1_060_000_000)]))
    response = client.post(
        "/console/registers/import/",
        {"file": upload, "record_date": "2025-09-15", "shares_outstanding": "3200000000"},
        follow=True,
    )
    assert "Imported the register of" in response.content.decode()
    snapshot = RegisterSnapshot.objects.get()
    assert (snapshot.holder_count, snapshot.total_shares) == (1, 1_060_000_000)
    assert "1,060,000,000" in response.content.decode()


def test_a_bad_register_file_names_its_lines_keeps_the_typed_values_and_imports_nothing(client: Client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(make_secretary())
    upload = SimpleUploadedFile("register.csv", register_csv([("A-1", "Alice", "alice@example.com", "many")]))
    response = client.post(
        "/console/registers/import/",
        {"file": upload, "record_date": "2025-09-15", "shares_outstanding": "3200000000"},
        follow=True,
    )
    page = response.content.decode()
    # The import's own page (it runs as a task), with the form again for a corrected file.
    assert response.redirect_chain[-1][0].startswith("/console/registers/imports/")
    assert "nothing was imported" in page
    assert "line 2" in page
    assert 'value="3200000000"' in page
    assert RegisterSnapshot.objects.count() == 0


def test_a_form_posted_without_its_csrf_token_gets_the_friendly_page_and_changes_nothing() -> None:
    member = make_user()
    poll = make_poll()
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post(f"/polls/{poll.pk}/vote/", {"option": poll.options.first().pk})  # type: ignore[union-attr]
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert '<a class="skip"' in response.content.decode()  # in the site's layout
    assert not Ballot.objects.exists()


def test_the_language_switcher_remembers_the_choice(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "it", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "it"
    assert '<html lang="it">' in client.get("/").content.decode()


def test_a_signed_in_readers_language_choice_is_kept_for_their_emails(client: Client) -> None:
    from polls.selectors import language_for_email

    member = make_user(email="Reader@Example.com")
    client.force_login(member)
    client.post("/i18n/setlang/", {"language": "it", "next": "/"})
    assert language_for_email("reader@example.com") == "it"
    assert language_for_email("nobody@example.com") == "en"


def test_an_unknown_language_changes_nothing() -> None:
    member = make_user()
    client = Client()
    client.force_login(member)
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert not hasattr(member, "profile") or member.profile is None
    from core.models import Profile

    assert not Profile.objects.exists()


def test_the_secretary_marks_a_follow_up_done_once_and_it_joins_the_proposals_trail(client: Client) -> None:
    from core.audit import audit_trail

    proposal = make_proposal(title="Advisory outcome")
    follow_up = FollowUp.objects.create(proposal=proposal, due_at=timezone.now(), note="Report back")
    client.force_login(make_secretary())
    done = client.post(f"/console/follow-ups/{follow_up.pk}/done/", CONFIRMED, follow=True).content.decode()
    assert "is done" in done
    assert "Report back" not in done.split('id="follow-ups-heading"')[1].split("</section>")[0]
    again = client.post(f"/console/follow-ups/{follow_up.pk}/done/", follow=True).content.decode()
    assert "already done" in again
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None
    assert [event.action for event in audit_trail(f"proposal:{proposal.pk}")].count("follow_up_done") == 1


def test_a_member_cannot_mark_a_follow_up_done(client: Client) -> None:
    follow_up = FollowUp.objects.create(proposal=make_proposal(), due_at=timezone.now(), note="Report back")
    client.force_login(make_user())
    assert client.post(f"/console/follow-ups/{follow_up.pk}/done/").status_code == 403
    follow_up.refresh_from_db()
    assert follow_up.done_at is None


def test_the_admin_action_marks_follow_ups_done_through_the_service(client: Client) -> None:
    follow_up = FollowUp.objects.create(proposal=make_proposal(), due_at=timezone.now(), note="Report back")
    client.force_login(make_secretary(is_superuser=True))
    response = client.post(
        "/admin/proposals/followup/",
        {"action": "mark_done", "_selected_action": [follow_up.pk]},
        follow=True,
    )
    assert "1 follow-up marked done." in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None


def test_the_secretary_creates_a_poll_from_the_console_as_a_draft(client: Client) -> None:
    from polls.models import Poll

    client.force_login(make_secretary())
    assert client.get("/console/polls/new/").status_code == 200
    response = client.post(
        "/console/polls/new/",
        {
            "title": "Which city should host the 2027 annual meeting?",
            "options": "Austin\n\nFremont\n",
            "opens_at": "2030-01-01T09:00",
            "closes_at": "2030-01-08T09:00",
            "results_visibility": "after_close",
            "allow_change": "on",
        },
        follow=True,
    )
    assert "saved as a draft" in response.content.decode()
    poll = Poll.objects.get(title__startswith="Which city")
    assert (poll.status, list(poll.options.values_list("label", flat=True))) == ("draft", ["Austin", "Fremont"])


def test_a_poll_form_with_one_option_and_a_backwards_window_keeps_the_text_and_names_the_fields(
    client: Client,
) -> None:
    from polls.models import Poll

    client.force_login(make_secretary())
    response = client.post(
        "/console/polls/new/",
        {
            "title": "Half a question",
            "options": "Only one",
            "opens_at": "2030-01-08T09:00",
            "closes_at": "2030-01-01T09:00",
            "results_visibility": "live",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "The poll must close after it opens." in page
    assert 'value="Half a question"' in page
    assert not Poll.objects.exists()


def test_the_secretary_creates_a_meeting_then_an_item_and_enters_the_inspectors_tabulation(client: Client) -> None:
    from meetings.models import Meeting, Tabulation
    from polls.models import Poll

    register = make_register([("A-1", "Alice", "alice@example.com", 1_000)], outstanding=2_000)
    client.force_login(make_secretary())
    created = client.post(
        "/console/meetings/new/",
        {
            "title": "2026 Annual Meeting",
            "date": "2026-06-10",
            "register": register.pk,
            "quorum": "1/3",
            "quorum_comparator": ">=",
        },
        follow=True,
    )
    meeting = Meeting.objects.get()
    assert created.redirect_chain[-1][0] == f"/console/meetings/{meeting.pk}/items/new/"
    client.post(
        f"/console/meetings/{meeting.pk}/items/new/",
        {
            "title": "Ratify the auditor",
            "standard": "votes_cast",
            "threshold": "1/2",
            "comparator": ">",
            "opens_at": "2030-06-01T09:00",
            "closes_at": "2030-06-10T18:00",
            "results_visibility": "after_close",
        },
    )
    item = Poll.objects.get(meeting=meeting)
    assert sorted(item.options.values_list("code", flat=True)) == ["abstain", "against", "for"]
    services.poll_open(poll=item)
    services.poll_close(poll=item)
    tabulated = client.post(
        f"/console/polls/{item.pk}/tabulation/",
        {"shares_for": "900", "shares_against": "50", "shares_abstain": "10", "broker_non_votes": ""},
        follow=True,
    )
    assert tabulated.redirect_chain[-1][0] == f"/console/polls/{item.pk}/certify/"
    assert Tabulation.objects.get(poll=item).shares_for == 900


def test_a_tabulation_is_only_for_shareholder_items(client: Client) -> None:
    client.force_login(make_secretary())
    assert client.get(f"/console/polls/{make_poll().pk}/tabulation/").status_code == 404


def test_the_dashboard_costs_the_same_queries_with_one_open_meeting_or_five(client: Client) -> None:
    alice = make_user(username="alice", email="alice@example.com")
    register = make_register([("A-1", "Alice Example", "alice@example.com", 1_000)], outstanding=10_000)

    def queries_for_home() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured)

    client.force_login(alice)
    make_item(make_meeting(register, title="Meeting 1"))
    one = queries_for_home()
    for n in range(2, 6):
        make_item(make_meeting(register, title=f"Meeting {n}"))
    five = queries_for_home()
    assert five == one, f"{one} queries with one open meeting, {five} with five"
    assert "Meeting 5" in client.get("/").content.decode()


def test_an_option_longer_than_its_column_is_refused_by_the_field(client: Client) -> None:
    from polls.models import Poll

    client.force_login(make_secretary())
    response = client.post(
        "/console/polls/new/",
        {
            "title": "Too long",
            "options": "x" * 201 + "\nShort",
            "opens_at": "2030-01-01T09:00",
            "closes_at": "2030-01-08T09:00",
            "results_visibility": "live",
        },
    )
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()
    assert not Poll.objects.exists()


def test_an_empty_post_to_a_console_form_is_refused_not_taken_for_a_visit(client: Client) -> None:
    client.force_login(make_secretary())
    response = client.post("/console/meetings/new/", {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_marking_a_follow_up_that_does_not_exist_done_is_a_404(client: Client) -> None:
    client.force_login(make_secretary())
    assert client.post("/console/follow-ups/987654/done/").status_code == 404
