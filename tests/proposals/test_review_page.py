"""The review page gives a director everything needed to vote, as far as the visibility rule
allows; decided proposals read as decided; the secretary's decide is offered only when it can
succeed, after a confirmation page; the console asks before what it cannot take back."""

from __future__ import annotations

import datetime
import html
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from polls.ballots import ballot_cast
from polls.models import PollStatus, ResultsVisibility
from proposals import board, materials, review_votes, services
from proposals.models import FollowUp, Proposal
from proposals.workflow import Action, State
from tests.factories import make_director, make_poll, make_proposal, make_secretary, make_user, start_review

pytestmark = pytest.mark.django_db

BOARD_SECRET = "BOARD-ONLY-7731"


@pytest.fixture
def world() -> dict[str, Any]:
    secretary = make_secretary(username="secretary")
    directors = {
        name: make_director(name, interests=interests)
        for name, interests in [("robyn", ()), ("elon", ("xAI",)), ("kimbal", ()), ("ira", ()), ("james", ())]
    }
    evidence = make_poll(title="Should Tesla invest $5B into xAI?", status=PollStatus.CLOSED)
    proposal = make_proposal(
        title="Invest $5B in xAI",
        body="The full text of the resolution.",
        amount=Decimal("5000000000.00"),
        currency="USD",
        polls=[evidence],
    )
    start_review(proposal, secretary)
    materials.attachment_add(
        proposal=proposal, actor=secretary, upload=SimpleUploadedFile("valuation.txt", b"board papers")
    )
    materials.comment_add(proposal=proposal, actor=directors["kimbal"].user, body=f"{BOARD_SECRET}: ask for terms")
    return {"secretary": secretary, "directors": directors, "proposal": proposal, "evidence": evidence}


def page(client: Client, user: Any, path: str, **headers: Any) -> str:
    client.force_login(user)
    response = client.get(path, **headers)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def test_a_director_reads_everything_needed_on_the_review_page(client: Client, world: dict[str, Any]) -> None:
    proposal = world["proposal"]
    text = page(client, world["directors"]["robyn"].user, f"/proposals/{proposal.pk}/review/")
    for expected in (
        "The full text of the resolution.",
        "5,000,000,000.00 USD",
        "xAI",
        "valuation.txt",
        f"{BOARD_SECRET}: ask for terms",
        "Should Tesla invest $5B into xAI?",
        "Quorum: 3 of 5 directors in office.",
        "interest in xAI",  # elon's recusal
        "Refer to the shareholders",  # the fourth choice
    ):
        assert expected in text, expected


def test_the_evidence_polls_results_show_only_when_the_reader_may_see_them(
    client: Client, world: dict[str, Any]
) -> None:
    proposal, robyn = world["proposal"], world["directors"]["robyn"].user
    hidden = make_poll(title="Still open poll", results_visibility=ResultsVisibility.AFTER_CLOSE)
    ballot_cast(poll_id=hidden.pk, actor=make_user(), option_id=hidden.options.get(label="Yes").pk)
    proposal.polls.add(hidden)
    text = page(client, robyn, f"/proposals/{proposal.pk}/review/")
    after_hidden = text.split("Still open poll", 1)[1]
    assert "Its results are not shown yet." in after_hidden.split("</h3>", 2)[1]
    before_hidden = text.split("Still open poll", 1)[0]
    assert "Results: Should Tesla invest $5B into xAI?" in before_hidden


def test_the_rule_reads_in_italian_and_for_a_special_committee(client: Client, world: dict[str, Any]) -> None:
    proposal, secretary = world["proposal"], world["secretary"]
    board.board_settings_update(quorum_basis="disinterested", actor=secretary)
    robyn = world["directors"]["robyn"].user
    assert "Quorum: 3 of 4 disinterested directors (special committee)." in page(
        client, robyn, f"/proposals/{proposal.pk}/review/"
    )
    italian = page(client, robyn, f"/proposals/{proposal.pk}/review/", HTTP_ACCEPT_LANGUAGE="it")
    assert "Quorum: 3 su 4 amministratori indipendenti (comitato speciale)." in italian


def test_a_recused_director_sees_the_proposal_but_not_the_deliberation(client: Client, world: dict[str, Any]) -> None:
    text = page(client, world["directors"]["elon"].user, f"/proposals/{world['proposal'].pk}/review/")
    assert "You are recused from this review" in text
    assert "The full text of the resolution." in text
    assert BOARD_SECRET not in text
    assert "valuation.txt" not in text
    assert "Record my vote" not in text


def test_a_decided_proposal_shows_its_decision_not_a_due_date_nor_not_yet(
    client: Client, world: dict[str, Any]
) -> None:
    proposal, directors = world["proposal"], world["directors"]
    for name in ("robyn", "kimbal", "ira"):
        review_votes.review_vote_cast(proposal_id=proposal.pk, actor=directors[name].user, decision="approve")
    proposal.refresh_from_db()
    assert proposal.status == State.APPROVED
    text = page(client, directors["james"].user, f"/proposals/{proposal.pk}/review/")
    assert "The board's decision: approved." in text
    assert "The board recommends: For" in re.sub(r"<[^>]+>", "", text)
    assert "Review due" not in text
    assert "not yet" not in text
    assert "did not vote" in text
    assert "Record my vote" not in text


def test_the_secretary_is_told_from_when_deciding_is_possible_in_the_readers_language(
    client: Client, world: dict[str, Any]
) -> None:
    proposal, secretary = world["proposal"], world["secretary"]
    proposal.refresh_from_db()
    text = page(client, secretary, f"/proposals/{proposal.pk}/")
    assert "you can decide from then on" in text
    assert f"/proposals/{proposal.pk}/decide/" not in text
    italian = page(client, secretary, f"/proposals/{proposal.pk}/", HTTP_ACCEPT_LANGUAGE="it")
    assert "potrai decidere da quel momento" in italian
    # The refusal itself names the date as the reader reads it, never as a raw UTC timestamp.
    client.force_login(secretary)
    response = client.post(f"/proposals/{proposal.pk}/transition/", {"action": "decide"}, follow=True)
    refused = html.unescape(response.content.decode())
    assert "the secretary decides only at the due date" in refused
    assert f"{proposal.review_due_at:%Y-%m-%d %H:%M}" not in refused
    proposal.refresh_from_db()
    assert proposal.status == State.IN_REVIEW


def test_at_the_due_date_the_secretary_decides_through_a_confirmation_page(
    client: Client, world: dict[str, Any]
) -> None:
    proposal, secretary, directors = world["proposal"], world["secretary"], world["directors"]
    for name, decision in (("robyn", "refer"), ("kimbal", "refer"), ("ira", "approve")):
        review_votes.review_vote_cast(proposal_id=proposal.pk, actor=directors[name].user, decision=decision)
    Proposal.objects.filter(pk=proposal.pk).update(review_due_at=timezone.now() - datetime.timedelta(minutes=1))
    detail = page(client, secretary, f"/proposals/{proposal.pk}/")
    assert f"/proposals/{proposal.pk}/decide/" in detail
    confirm = page(client, secretary, f"/proposals/{proposal.pk}/decide/")
    assert "referred to the shareholders with no recommendation" in confirm
    assert "This cannot be undone" in confirm
    proposal.refresh_from_db()
    assert proposal.status == State.IN_REVIEW  # reading the confirmation changes nothing
    client.post(f"/proposals/{proposal.pk}/transition/", {"action": "decide", "comment": ""})
    proposal.refresh_from_db()
    assert (proposal.status, proposal.board_recommendation) == (State.REFERRED, "none")


def test_a_member_cannot_open_the_decide_page(client: Client, world: dict[str, Any]) -> None:
    client.force_login(world["directors"]["robyn"].user)
    assert client.get(f"/proposals/{world['proposal'].pk}/decide/").status_code == 403


def test_the_console_asks_before_closing_a_poll_and_closes_only_when_confirmed(client: Client) -> None:
    poll = make_poll(title="Close me")
    client.force_login(make_secretary())
    first = client.post(f"/console/polls/{poll.pk}/close/")
    text = html.unescape(first.content.decode())
    assert first.status_code == 200
    assert "no ballot is accepted from then on" in text
    assert 'name="confirmed" value="yes"' in text
    assert "<script" not in text.split("</header>", 1)[-1]
    poll.refresh_from_db()
    assert poll.status == PollStatus.OPEN
    client.post(f"/console/polls/{poll.pk}/close/", {"confirmed": "yes"})
    poll.refresh_from_db()
    assert poll.status == PollStatus.CLOSED


def test_the_console_asks_before_opening_a_poll(client: Client) -> None:
    poll = make_poll(status=PollStatus.DRAFT, title="Open me")
    client.force_login(make_secretary())
    assert "voting starts at once" in html.unescape(client.post(f"/console/polls/{poll.pk}/open/").content.decode())
    poll.refresh_from_db()
    assert poll.status == PollStatus.DRAFT


def test_the_console_asks_before_marking_a_follow_up_done_and_keeps_the_comment(client: Client) -> None:
    follow_up = FollowUp.objects.create(proposal=make_proposal(), due_at=timezone.now(), note="Report back")
    client.force_login(make_secretary())
    first = html.unescape(
        client.post(f"/console/follow-ups/{follow_up.pk}/done/", {"comment": "Board met"}).content.decode()
    )
    assert "this cannot be undone" in first
    assert 'name="comment" value="Board met"' in first
    follow_up.refresh_from_db()
    assert follow_up.done_at is None
    client.post(f"/console/follow-ups/{follow_up.pk}/done/", {"confirmed": "yes", "comment": "Board met"})
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None


def test_the_board_settings_page_is_the_secretarys_and_the_change_is_audited(client: Client) -> None:
    from core.models import AuditEvent

    secretary = make_secretary()
    client.force_login(make_user())
    assert client.get("/proposals/board/settings/").status_code == 403
    client.force_login(secretary)
    assert "A majority of all directors in office" in page(client, secretary, "/proposals/board/settings/")
    client.post("/proposals/board/settings/", {"quorum_basis": "disinterested"})
    event = AuditEvent.objects.get(stream="board", action="board_settings_changed")
    assert event.payload["quorum_basis"] == {"from": "all_in_office", "to": "disinterested"}
    assert client.post("/proposals/board/settings/", {"quorum_basis": "everyone"}).status_code == 400


def test_withdrawing_is_still_refused_to_a_stranger(world: dict[str, Any]) -> None:
    # A guard that the review's new context did not loosen the workflow.
    with pytest.raises(Exception, match="proposer"):
        services.proposal_transition(proposal_id=world["proposal"].pk, action=Action.WITHDRAW, actor=make_user())


def test_the_secretary_sets_the_quorum_basis_in_the_admin_and_it_is_on_the_trail(client: Client) -> None:
    from core.models import AuditEvent

    secretary = make_secretary()
    secretary.is_staff = True
    secretary.save()
    client.force_login(secretary)
    assert client.get("/admin/proposals/boardsettings/add/").status_code == 200
    response = client.post("/admin/proposals/boardsettings/add/", {"quorum_basis": "disinterested"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(stream="board", action="board_settings_changed")
    assert (event.actor_id, event.payload["quorum_basis"]["to"]) == (secretary.pk, "disinterested")
    assert client.get("/admin/proposals/boardsettings/add/").status_code == 403  # one row only
