from __future__ import annotations

import pytest
from django.db import connection

from core.models import AuditEvent
from proposals import services
from proposals.exceptions import IllegalAction
from proposals.workflow import Action, State
from tests.factories import make_proposal, make_secretary, proposal_state_force
from tests.polls.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_secretaries_deciding_at_once_leave_one_decision_and_one_refusal() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so nothing races")
    proposal = make_proposal()
    proposal_state_force(proposal, State.IN_REVIEW)
    secretaries = [make_secretary(), make_secretary()]

    def decide(i: int) -> str:
        try:
            services.proposal_transition(proposal_id=proposal.pk, action=Action.DECIDE, actor=secretaries[i])
        except IllegalAction as refusal:
            return f"409 {refusal.allowed_actions}"
        return "decided"

    outcomes = sorted(run_together(2, decide))
    assert outcomes[0].startswith("409")
    assert outcomes[1] == "decided"
    assert AuditEvent.objects.filter(stream=f"proposal:{proposal.pk}", action="decide").count() == 1
