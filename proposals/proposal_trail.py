"""A proposal's state and its board's review votes against the proposal's chain. Every
transition writes its link (`to`: the state it left the proposal in) in the transaction that
changes the row, and every review vote (`review_vote`, `review_vote_changed`: the director and
the decision). A status set by SQL (a rejected proposal made approved, then put to the
shareholders) or a review vote inserted or changed by SQL (which the board rule counts) would
otherwise act with the trail still verifying, and so would a recusal removed or lifted by SQL
(`director_recused`, `recusal_lifted`: the conflicted director could then vote). verify_audit
names them, and a transition or a review vote on such a proposal is refused."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby

from django.utils.translation import gettext as _

from core.models import AuditEvent
from proposals.models import Proposal, Recusal, ReviewVote
from proposals.workflow import State

VOTE_ACTIONS = ("review_vote", "review_vote_changed")
RECUSAL_ACTIONS = {"director_recused": "recused", "recusal_lifted": "lifted"}


class _Recorded:
    """What a proposal's chain says: its state, and each director's latest review decision."""

    def __init__(self) -> None:
        self.state: str | None = None
        self.votes: dict[str, str] = {}
        self.recusals: dict[str, str] = {}

    def take(self, action: str, payload: dict[str, object]) -> None:
        if action in VOTE_ACTIONS:
            self.votes[str(payload.get("director"))] = str(payload.get("decision"))
        elif action in RECUSAL_ACTIONS:
            self.recusals[str(payload.get("director"))] = RECUSAL_ACTIONS[action]
        elif "to" in payload:
            self.state = str(payload["to"])


def _recorded(proposal_ids: list[int] | None) -> dict[int, _Recorded]:
    events = AuditEvent.objects.filter(stream__startswith="proposal:")
    if proposal_ids is not None:
        events = events.filter(stream__in=[f"proposal:{pk}" for pk in proposal_ids])
    rows = events.order_by("stream", "seq").values_list("stream", "action", "payload")
    recorded: dict[int, _Recorded] = {}
    for stream, links in groupby(rows.iterator(chunk_size=5000), key=lambda row: row[0]):
        pk = stream.partition(":")[2]
        if not pk.isdigit():
            continue
        chain = recorded.setdefault(int(pk), _Recorded())
        for _stream, action, payload in links:
            chain.take(action, payload or {})
    return recorded


class _Live:
    """The review votes and recusals of proposals, by proposal id and director's username."""

    def __init__(self, proposal_ids: list[int] | None) -> None:
        votes, recusals = ReviewVote.objects.all(), Recusal.objects.all()
        if proposal_ids is not None:
            votes, recusals = votes.filter(proposal_id__in=proposal_ids), recusals.filter(proposal_id__in=proposal_ids)
        self.votes: dict[int, dict[str, str]] = {}
        self.recusals: dict[int, dict[str, str]] = {}
        for pk, username, decision in votes.values_list("proposal_id", "director__user__username", "decision"):
            self.votes.setdefault(pk, {})[username] = decision
        for pk, username, lifted in recusals.values_list("proposal_id", "director__user__username", "lifted_at"):
            self.recusals.setdefault(pk, {})[username] = "recused" if lifted is None else "lifted"


def _recusal_problem(recorded: _Recorded, recusals: dict[str, str]) -> str | None:
    for director in sorted(recusals.keys() | recorded.recusals.keys()):
        if recusals.get(director) != recorded.recusals.get(director):
            return _("the recusal of %(director)s is %(live)s but its trail says %(recorded)s") % {
                "director": director,
                "live": recusals.get(director, _("none")),
                "recorded": recorded.recusals.get(director, _("none")),
            }
    return None


def _problem(status: str, recorded: _Recorded | None, votes: dict[str, str], recusals: dict[str, str]) -> str | None:
    if recorded is None or recorded.state is None:
        return _("has no transitions on the trail: it was written outside Quorum")
    if status != recorded.state:
        return _("its status is %(status)s but its trail left it %(recorded)s: changed outside Quorum") % {
            "status": status,
            "recorded": recorded.state,
        }
    for director in sorted(votes.keys() | recorded.votes.keys()):
        if votes.get(director) != recorded.votes.get(director):
            return _("the review vote of %(director)s is %(live)s but its trail says %(recorded)s") % {
                "director": director,
                "live": votes.get(director, _("none")),
                "recorded": recorded.votes.get(director, _("none")),
            }
    return _recusal_problem(recorded, recusals)


def proposal_problems() -> Iterator[tuple[str, str]]:
    """Every proposal whose state or review votes differ from its chain, for verify_audit."""
    recorded = _recorded(None)
    live = _Live(None)
    for pk, status in Proposal.objects.order_by("pk").values_list("pk", "status").iterator(chunk_size=2000):
        problem = _problem(status, recorded.get(pk), live.votes.get(pk, {}), live.recusals.get(pk, {}))
        if problem is not None:
            yield _("proposal %(proposal)d") % {"proposal": pk}, problem


def proposal_off_trail(proposal: Proposal) -> str | None:
    """Why a proposal may not move: its row differs from its chain (read under its lock)."""
    live = _Live([proposal.pk])
    recorded = _recorded([proposal.pk]).get(proposal.pk)
    problem = _problem(proposal.status, recorded, live.votes.get(proposal.pk, {}), live.recusals.get(proposal.pk, {}))
    if problem is None and proposal.status in (State.SUBMITTED, State.IN_REVIEW):
        from proposals.director_trail import director_problems  # the board that reviews it

        board = next(director_problems(), None)
        problem = f"{board[0]}: {board[1]}" if board is not None else None
    if problem is None:
        return None
    return _(
        "This proposal differs from its audit trail (%(problem)s), so it was changed outside Quorum; nothing "
        "is done with it until that is resolved. Run verify_audit to see what differs."
    ) % {"problem": problem}


def proposal_check_register() -> None:
    from polls.trail_records import subject_check_register

    subject_check_register(every=proposal_problems, of_poll=None)
