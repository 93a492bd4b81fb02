"""A proposal's state decides what the secretary may do with it next (a rejected proposal put to
the shareholders), and the directors' review votes decide the state: both are on the proposal's
chain, so a status or a review vote changed by SQL is named by verify_audit, and the proposal
refuses every transition and review vote until it is resolved."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from proposals.exceptions import IllegalAction
from proposals.models import Director, Proposal, Recusal, ReviewVote
from proposals.review_votes import review_vote_cast
from proposals.services import proposal_transition
from proposals.workflow import Action, State
from tests.factories import make_director, make_proposal, make_secretary, make_user, start_review

pytestmark = pytest.mark.django_db


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def review() -> dict[str, Any]:
    secretary = make_secretary()
    directors = [make_director(name) for name in ("ada", "bob", "cy")]
    proposal = start_review(make_proposal(), secretary)
    return {"secretary": secretary, "directors": directors, "proposal": proposal}


def test_a_proposal_moved_through_its_workflow_verifies(review: dict[str, Any]) -> None:
    review_vote_cast(proposal_id=review["proposal"].pk, actor=review["directors"][0].user, decision="reject")
    call_command("verify_audit")


def test_a_status_set_by_sql_is_named_and_the_proposal_refuses_to_move(review: dict[str, Any]) -> None:
    proposal = review["proposal"]
    Proposal.objects.filter(pk=proposal.pk).update(status=State.APPROVED)
    with pytest.raises(CommandError, match=rf"proposal {proposal.pk}: its status is approved but its trail left it"):
        call_command("verify_audit")
    with pytest.raises(IllegalAction, match="differs from its audit trail"):
        proposal_transition(proposal_id=proposal.pk, action=Action.PUT_TO_VOTE, actor=review["secretary"])
    assert Proposal.objects.get(pk=proposal.pk).status == State.APPROVED  # nothing moved


def test_a_review_vote_inserted_or_changed_by_sql_is_named_and_stops_the_board_rule(review: dict[str, Any]) -> None:
    proposal = review["proposal"]
    ada, bob, cy = review["directors"]
    review_vote_cast(proposal_id=proposal.pk, actor=ada.user, decision="reject")
    ReviewVote.objects.filter(proposal=proposal, director=ada).update(decision="approve")
    with pytest.raises(CommandError, match=r"the review vote of ada is approve but its trail says reject"):
        call_command("verify_audit")
    ReviewVote.objects.filter(proposal=proposal, director=ada).update(decision="reject")
    call_command("verify_audit")
    _sql(
        "INSERT INTO proposals_reviewvote (proposal_id, director_id, decision, comment, cast_at, updated_at)"
        " VALUES (%s, %s, 'approve', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        [proposal.pk, Director.objects.get(pk=bob.pk).pk],
    )
    with pytest.raises(CommandError, match=r"the review vote of bob is approve but its trail says none"):
        call_command("verify_audit")
    with pytest.raises(IllegalAction, match="differs from its audit trail"):
        review_vote_cast(proposal_id=proposal.pk, actor=cy.user, decision="approve")
    assert Proposal.objects.get(pk=proposal.pk).status == State.IN_REVIEW


def test_a_proposal_inserted_behind_the_services_is_named(review: dict[str, Any]) -> None:
    Proposal.objects.create(
        title="Forged", summary="Approved by nobody.", proposer=review["proposal"].proposer, status=State.APPROVED
    )
    with pytest.raises(CommandError, match=r"has no transitions on the trail"):
        call_command("verify_audit")


def test_a_recusal_deleted_or_lifted_by_sql_is_named_and_the_conflicted_director_still_cannot_vote() -> None:
    secretary = make_secretary()
    musk = make_director("musk", interests=("xAI",))
    make_director("ada")
    proposal = start_review(make_proposal(counterparty="xAI"), secretary)
    assert Recusal.objects.filter(proposal=proposal, director=musk).exists()
    call_command("verify_audit")
    Recusal.objects.filter(proposal=proposal, director=musk).update(
        lifted_at=timezone.now(), lifted_by=secretary, lift_reason="forged"
    )
    with pytest.raises(CommandError, match=r"the recusal of musk is lifted but its trail says recused"):
        call_command("verify_audit")
    with pytest.raises(IllegalAction, match="differs from its audit trail"):
        review_vote_cast(proposal_id=proposal.pk, actor=musk.user, decision="approve")
    _sql("DELETE FROM proposals_recusal WHERE proposal_id = %s", [proposal.pk])
    with pytest.raises(CommandError, match=r"the recusal of musk is none but its trail says recused"):
        call_command("verify_audit")
    assert not ReviewVote.objects.filter(proposal=proposal).exists()


def test_a_director_added_or_an_interest_removed_by_sql_is_named_and_the_board_refuses_to_act() -> None:
    secretary = make_secretary()
    musk = make_director("musk", interests=("xAI",))
    make_director("ada")
    call_command("verify_audit")
    # An interest dropped before the review starts: musk would not be recused from an xAI deal.
    _sql("UPDATE proposals_director SET interests = '[]' WHERE id = %s", [musk.pk])
    with pytest.raises(CommandError, match=r"director musk: interests differ from the trail's latest link"):
        call_command("verify_audit")
    with pytest.raises(IllegalAction, match="director musk: interests differ"):
        start_review(make_proposal(counterparty="xAI"), secretary)
    Director.objects.filter(pk=musk.pk).update(interests=["xAI"])
    call_command("verify_audit")
    insider = make_user(username="insider")
    Director.objects.create(user=insider, title="Director", in_office=True)
    with pytest.raises(CommandError, match=r"director insider: is on the board, but no link on the trail"):
        call_command("verify_audit")
