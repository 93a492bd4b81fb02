"""Settlement reads a certified item's outcome through polls.outcomes, typed, never the keys of
the frozen JSON record: the selector returns what certification froze, or nothing before it."""

from __future__ import annotations

import pytest

from core.models import AuditEvent
from meetings.services import tabulation_record
from polls import certification
from polls.models import Poll, PollStatus
from polls.outcomes import CertifiedOutcome, certified_outcome
from polls.results import poll_results
from proposals import services
from proposals.models import Proposal
from proposals.workflow import Action, State
from tests.factories import (
    make_item,
    make_meeting,
    make_poll,
    make_proposal,
    make_register,
    make_secretary,
    proposal_state_force,
)

pytestmark = pytest.mark.django_db

# The 2025 Tesla meeting's public figures: the votes-cast majority passes, the bylaw standard
# (abstentions count against) fails.
FOR, AGAINST, ABSTAIN = 1_060_000_000, 916_300_000, 473_000_000


def _item(*, standard: str = "votes_cast", advisory: bool = False, status: str = PollStatus.CLOSED) -> Poll:
    register = make_register([("CEDE", "Cede & Co", "cede@example.com", 3_000_000_000)], outstanding=3_200_000_000)
    return make_item(make_meeting(register), status=status, standard=standard, advisory=advisory)


def _certify(item: Poll) -> Poll:
    secretary = make_secretary()
    tabulation_record(poll=item, shares_for=FOR, shares_against=AGAINST, shares_abstain=ABSTAIN, actor=secretary)
    return certification.poll_certify(poll=item, actor=secretary, confirm_difference=True)


def test_an_item_has_no_certified_outcome_before_it_is_certified() -> None:
    assert certified_outcome(poll=_item(status=PollStatus.OPEN)) is None
    assert certified_outcome(poll=_item(status=PollStatus.CLOSED)) is None


def test_a_certified_public_poll_decides_nothing() -> None:
    poll = make_poll(status=PollStatus.CLOSED)
    poll = certification.poll_certify(poll=poll, actor=make_secretary())
    assert poll.status == PollStatus.CERTIFIED
    assert certified_outcome(poll=poll) is None


@pytest.mark.parametrize(("standard", "passed"), [("votes_cast", True), ("present_and_entitled", False)])
def test_the_outcome_is_the_one_certification_froze(standard: str, passed: bool) -> None:
    item = _certify(_item(standard=standard, advisory=True))
    outcome = certified_outcome(poll=item)
    shown = poll_results(poll=item).outcome
    assert shown is not None
    assert outcome == CertifiedOutcome(passed=passed, reason=shown.reason, standard=standard, advisory=True)
    assert outcome.passed is shown.passed


def test_the_outcome_comes_from_the_record_not_the_items_current_settings() -> None:
    item = _certify(_item(standard="votes_cast"))
    # Even a setting changed behind the services' back does not reopen the decision.
    Poll.objects.filter(pk=item.pk).update(standard="present_and_entitled", advisory=True)
    outcome = certified_outcome(poll=Poll.objects.get(pk=item.pk))
    assert outcome is not None
    assert (outcome.passed, outcome.standard, outcome.advisory) == (True, "votes_cast", False)


def _at_the_vote(item: Poll) -> Proposal:
    return proposal_state_force(make_proposal(), State.SHAREHOLDER_VOTE, item=item)


@pytest.mark.parametrize(
    ("standard", "settled"), [("votes_cast", State.ADOPTED), ("present_and_entitled", State.DEFEATED)]
)
def test_settlement_follows_the_certified_outcome(standard: str, settled: State) -> None:
    item = _certify(_item(standard=standard))
    proposal = _at_the_vote(item)
    outcome = certified_outcome(poll=item)
    assert outcome is not None
    settled_proposal = services.proposal_settle(proposal_id=proposal.pk)
    assert settled_proposal is not None and settled_proposal.status == settled
    event = AuditEvent.objects.get(stream=f"proposal:{proposal.pk}", action=Action.SETTLE)
    assert event.payload["comment"] == f"Shareholder vote certified: {outcome.reason}."


def test_settlement_waits_for_certification() -> None:
    proposal = _at_the_vote(_item(status=PollStatus.CLOSED))
    settled = services.proposal_settle(proposal_id=proposal.pk)
    assert settled is not None and settled.status == State.SHAREHOLDER_VOTE
    assert not AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}", action=Action.SETTLE).exists()
