"""Plain-dict twins of the hottest serializers' output. The serializers still describe the
schema; these build the same JSON without building fields on every request (measured: about
1 ms of a 3 ms vote). tests/polls/test_payloads.py holds each twin equal to its serializer."""

from __future__ import annotations

from typing import Any

from polls.models import Ballot
from polls.selectors import OptionResult, PollResults


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def ballot_payload(ballot: Ballot) -> dict[str, Any]:
    return {
        "poll": ballot.poll_id,
        "option": ballot.option_id,
        "holder": ballot.holder_id,
        "voter": ballot.voter.get_username(),
        "weight": str(ballot.weight),
        "shares_for": _text(ballot.shares_for),
        "shares_against": _text(ballot.shares_against),
        "shares_abstain": _text(ballot.shares_abstain),
        "cast_at": _datetime(ballot.cast_at),
        "updated_at": _datetime(ballot.updated_at),
    }


def _datetime(value: Any) -> str | None:
    from rest_framework.fields import DateTimeField

    return None if value is None else DateTimeField().to_representation(value)


def _named(option: OptionResult) -> dict[str, Any]:
    return {"id": option.id, "label": option.label}


def results_payload(results: PollResults) -> dict[str, Any]:
    totals, quorum, outcome = results.totals, results.quorum, results.outcome
    return {
        "status": results.status,
        "total_ballots": results.total_ballots,
        "total_weight": str(results.total_weight),
        "options": [
            {"id": o.id, "label": o.label, "votes": o.votes, "weight": str(o.weight), "percent": str(o.percent)}
            for o in results.options
        ],
        "winner": _named(results.winner) if results.winner else None,
        "tied": [_named(option) for option in results.tied],
        "turnout": {
            "ballots": results.turnout.ballots,
            "eligible": results.turnout.eligible,
            "percent": str(results.turnout.percent),
        },
        "certified": results.certified,
        "certified_at": _datetime(results.poll.certified_at),
        "totals": None
        if totals is None
        else {
            "for": str(totals.for_),
            "against": str(totals.against),
            "abstain": str(totals.abstain),
            "broker_non_votes": str(totals.broker_non_votes),
            "outstanding": str(totals.outstanding),
            "source": totals.source,
        },
        "quorum": None
        if quorum is None
        else {
            "present": str(quorum.present),
            "outstanding": str(quorum.outstanding),
            "percent": str(quorum.percent),
            "threshold": quorum.threshold,
            "met": quorum.met,
        },
        "outcome": None
        if outcome is None
        else {
            "standard": outcome.standard,
            "threshold": outcome.threshold,
            "passed": outcome.passed,
            "percent": _text(outcome.percent),
            "quorum_met": outcome.quorum_met,
            "reason": outcome.reason,
            "advisory": outcome.advisory,
        },
        "what_if": [
            {"standard": row.standard, "passed": row.passed, "percent": _text(row.percent)} for row in results.what_if
        ],
    }
