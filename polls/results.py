"""Results of a poll or a shareholder item. While it runs they come from the running totals,
so they cost the same at ten ballots or ten million; once certified they come from the frozen
record alone (`Poll.certified_result`), never recomputed from the meeting's or the item's
current settings (DESIGN, Trust: "Certification is final")."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.utils import timezone

from polls import kinds
from polls.arithmetic import largest_remainder_tenths, tenths_to_percent
from polls.models import Choice, Option, Poll, PollStatus
from polls.standards import Comparator as StandardComparator
from polls.standards import Threshold, Totals, decide, percent_of


@dataclass(frozen=True)
class OptionResult:
    id: int
    label: str
    votes: int
    weight: int
    percent: Decimal


@dataclass(frozen=True)
class Turnout:
    ballots: int
    eligible: int
    percent: Decimal


@dataclass(frozen=True)
class ShareTotals:
    for_: int
    against: int
    abstain: int
    broker_non_votes: int
    outstanding: int
    source: str  # "ballots" or "tabulation"
    # Shares present at the meeting (its attendance), when the item belongs to one.
    attending: int | None = None


@dataclass(frozen=True)
class QuorumResult:
    present: int
    outstanding: int
    percent: Decimal
    threshold: str
    met: bool


@dataclass(frozen=True)
class ItemOutcome:
    standard: str
    threshold: str
    passed: bool
    percent: Decimal | None
    quorum_met: bool
    reason: str
    advisory: bool


@dataclass(frozen=True)
class WhatIf:
    standard: str
    passed: bool
    percent: Decimal | None
    is_item_standard: bool
    # "no quorum" when the meeting could not act, whatever the count under this standard.
    reason: str = ""


@dataclass(frozen=True)
class PollResults:
    poll: Poll
    status: str
    options: list[OptionResult]
    total_ballots: int
    total_weight: int
    winner: OptionResult | None
    tied: list[OptionResult]
    turnout: Turnout
    certified: bool
    totals: ShareTotals | None = None
    quorum: QuorumResult | None = None
    outcome: ItemOutcome | None = None
    what_if: list[WhatIf] = field(default_factory=list)
    # Certified: the frozen record these results were read from (its "certification" part
    # names the rules, the register, who certified and any confirmed difference).
    record: dict[str, Any] | None = None
    # What the poll's ballot form adds (an election's nominees), as plain JSON.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        """Whether `winner` has won or only leads: it can change until the poll closes."""
        return self.status in (PollStatus.CLOSED, PollStatus.CERTIFIED)


def share_totals(
    *, options: list[Option], outstanding: int, official: kinds.OfficialTotals | None, attending: int | None = None
) -> ShareTotals:
    """A share-weighted poll's totals: the inspector's figures when entered, else the ballots'."""
    if official is not None:
        return ShareTotals(
            for_=official.by_code[Choice.FOR],
            against=official.by_code[Choice.AGAINST],
            abstain=official.by_code[Choice.ABSTAIN],
            broker_non_votes=official.broker_non_votes,
            outstanding=outstanding,
            source="tabulation",
            attending=attending,
        )
    weight = {option.code: option.weight for option in options}
    return ShareTotals(
        for_=weight[Choice.FOR],
        against=weight[Choice.AGAINST],
        abstain=weight[Choice.ABSTAIN],
        broker_non_votes=0,
        outstanding=outstanding,
        source="ballots",
        attending=attending,
    )


# The quorum, the outcome under the poll's standard, and what every other standard would give.
ItemDecision = tuple[QuorumResult, ItemOutcome | None, list[WhatIf]]


def item_decision(poll: Poll, totals: ShareTotals, quorum: Threshold) -> ItemDecision:
    """Apply the item's standard, the meeting's quorum and every other standard to the totals."""
    threshold = Threshold(
        Fraction(poll.threshold_numerator, poll.threshold_denominator), StandardComparator(poll.threshold_comparator)
    )
    engine_totals = Totals(
        for_=totals.for_,
        against=totals.against,
        abstain=totals.abstain,
        outstanding=totals.outstanding,
        broker_non_votes=totals.broker_non_votes,
        attending=totals.attending,
    )
    decision = decide(poll.standard, threshold, engine_totals, quorum)
    present = engine_totals.present
    quorum_result = QuorumResult(
        present=present,
        outstanding=totals.outstanding,
        percent=percent_of(Fraction(present, totals.outstanding)) if totals.outstanding else Decimal("0.0"),
        threshold=str(quorum),
        met=decision.quorum_met,
    )
    outcome = ItemOutcome(
        standard=poll.standard,
        threshold=str(threshold),
        passed=decision.passed,
        percent=decision.outcome.percent,
        quorum_met=decision.quorum_met,
        reason=decision.reason,
        advisory=poll.advisory,
    )
    what_if = [
        WhatIf(
            standard=str(other.standard),
            passed=other.passed,
            percent=other.percent,
            is_item_standard=str(other.standard) == poll.standard,
            reason="" if decision.quorum_met else "no quorum",
        )
        for other in decision.what_if
    ]
    return quorum_result, outcome, what_if


def poll_results(
    *, poll: Poll, now: datetime.datetime | None = None, options: list[Option] | None = None
) -> PollResults:
    """What every page, API answer and export shows: the frozen record once certified.
    `options`, the poll's options in order, when the caller read them with the poll."""
    if poll.status == PollStatus.CERTIFIED and poll.certified_result:
        return results_from_record(poll, poll.certified_result)
    return live_results(poll=poll, now=now, options=options)


def live_results(
    *, poll: Poll, now: datetime.datetime | None = None, options: list[Option] | None = None
) -> PollResults:
    """From the running totals (or the inspector's tabulation) and the current rules: what
    certification freezes, and nothing serves once it has."""
    with kinds.one_reading(poll):
        return _live_results(poll=poll, now=now, options=options)


def _live_results(*, poll: Poll, now: datetime.datetime | None, options: list[Option] | None) -> PollResults:
    if options is None:
        options = list(Option.objects.filter(poll_id=poll.pk).order_by("position", "id"))
    form = kinds.form_of(poll)
    totals = form.totals(poll=poll, options=options)
    weights = form.option_weights(poll=poll, options=options, totals=totals)
    tenths = largest_remainder_tenths(weights)
    rows = [
        OptionResult(
            id=option.pk,
            label=option.label,
            votes=option.votes,
            weight=weight,
            percent=tenths_to_percent(share),
        )
        for option, weight, share in zip(options, weights, tenths, strict=True)
    ]
    top = [rows[i] for i in form.leading(poll=poll, options=options, weights=weights)]
    ballots = form.ballots_cast(poll, votes=sum(o.votes for o in options))
    eligible = form.eligible_voters(poll)
    # Rounded like every other percentage on the page (29 of 37 is 78.4%, not a cut 78.3%).
    turnout_percent = percent_of(Fraction(ballots, eligible)) if eligible else Decimal("0.0")
    decision = form.decide(poll=poll, totals=totals)
    quorum, outcome, what_if = decision if decision is not None else (None, None, [])
    return PollResults(
        poll=poll,
        status=poll.effective_status(now),
        options=rows,
        total_ballots=ballots,
        total_weight=sum(weights),
        winner=top[0] if len(top) == 1 else None,
        tied=top if len(top) > 1 else [],
        turnout=Turnout(ballots=ballots, eligible=eligible, percent=turnout_percent),
        certified=poll.status == PollStatus.CERTIFIED,
        totals=totals,
        quorum=quorum,
        outcome=outcome,
        what_if=what_if,
        extra=form.results_extra(poll=poll, options=options, weights=weights),
    )


def _option_from(row: dict[str, Any]) -> OptionResult:
    return OptionResult(
        id=row["id"], label=row["label"], votes=row["votes"], weight=int(row["weight"]), percent=Decimal(row["percent"])
    )


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def results_from_record(poll: Poll, record: dict[str, Any]) -> PollResults:
    """The results as certified, read back from the record alone: no running total, no
    tabulation row, no meeting or item setting is consulted (`poll` names the subject)."""
    options = [_option_from(row) for row in record["options"]]
    by_id = {option.id: option for option in options}
    winner = record.get("winner")
    totals = record.get("totals")
    quorum = record.get("quorum")
    outcome = record.get("outcome")
    turnout = record["turnout"]
    return PollResults(
        poll=poll,
        status=PollStatus.CERTIFIED,
        options=options,
        total_ballots=record["total_ballots"],
        total_weight=int(record["total_weight"]),
        winner=by_id.get(winner["id"]) if winner else None,
        tied=[by_id[row["id"]] for row in record.get("tied", []) if row["id"] in by_id],
        turnout=Turnout(ballots=turnout["ballots"], eligible=turnout["eligible"], percent=Decimal(turnout["percent"])),
        certified=True,
        totals=None
        if totals is None
        else ShareTotals(
            for_=int(totals["for"]),
            against=int(totals["against"]),
            abstain=int(totals["abstain"]),
            broker_non_votes=int(totals["broker_non_votes"]),
            outstanding=int(totals["outstanding"]),
            source=totals["source"],
        ),
        quorum=None
        if quorum is None
        else QuorumResult(
            present=int(quorum["present"]),
            outstanding=int(quorum["outstanding"]),
            percent=Decimal(quorum["percent"]),
            threshold=quorum["threshold"],
            met=quorum["met"],
        ),
        outcome=None
        if outcome is None
        else ItemOutcome(
            standard=outcome["standard"],
            threshold=outcome["threshold"],
            passed=outcome["passed"],
            percent=_decimal(outcome["percent"]),
            quorum_met=outcome["quorum_met"],
            reason=outcome["reason"],
            advisory=outcome["advisory"],
        ),
        what_if=[
            WhatIf(
                standard=row["standard"],
                passed=row["passed"],
                percent=_decimal(row["percent"]),
                is_item_standard=outcome is not None and row["standard"] == outcome["standard"],
                reason=row.get("reason", ""),
            )
            for row in record.get("what_if", [])
        ],
        record=record,
        extra={key: record[key] for key in kinds.form_of(poll).extra_keys if key in record},
    )


def iso_datetime(value: datetime.datetime | None) -> str | None:
    """As the API writes times: in the current time zone, ISO 8601, UTC as "Z"."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _named(option: OptionResult) -> dict[str, Any]:
    return {"id": option.id, "label": option.label}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def results_json(results: PollResults) -> dict[str, Any]:
    """The results as the API answers them (integers of shares and decimals as strings), and
    what certification freezes. tests/polls/test_payloads.py holds it equal to the API's
    ResultsSerializer, which describes it in the schema."""
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
        "final": results.final,
        "tied": [_named(option) for option in results.tied],
        "turnout": {
            "ballots": results.turnout.ballots,
            "eligible": results.turnout.eligible,
            "percent": str(results.turnout.percent),
        },
        "certified": results.certified,
        "certified_at": iso_datetime(results.poll.certified_at),
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
            {"standard": row.standard, "passed": row.passed, "percent": _text(row.percent), "reason": row.reason}
            for row in results.what_if
        ],
        **results.extra,
    }
