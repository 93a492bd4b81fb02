"""Writes of the annual meeting's ballot forms (election, frequency, choice): a holder's ballot
of lines, the inspector's figures per nominee or option, and the items' creation with their
nominees or options. The rules (what a ballot may say, who is elected) are ballot_rules'."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_append
from meetings import ballot_rules, proxy_mail
from meetings.attendance import attendance_mark
from meetings.attendance_models import AttendanceSource
from meetings.ballot_counters import counters_move
from meetings.ballot_forms import LineItem
from meetings.ballot_models import BallotLine, ItemTerms, NomineeTally, TabulationLine
from meetings.ballot_rules import ElectionStandard, Line, LineChoice, LineProblem
from meetings.models import Holder, Tabulation
from meetings.proxy_rules import holder_overrides
from meetings.services import holder_for_ballot
from polls import kinds, receipt_mail, refusals
from polls.ballots import (
    CastResult,
    Created,
    _audit_ballot,
    _check_open,
    _insert_or_lock_ballot,
    _poll_for_ballot,
)
from polls.exceptions import (
    ChangeNotAllowed,
    IllegalTransition,
    InvalidPollData,
    InvalidVote,
    NotEligible,
    PollNotFound,
)
from polls.models import Ballot, Option, Poll, PollStatus
from polls.services import _locked_poll, grouped_number


def problem_text(problem: LineProblem) -> str:
    """A ballot's problem in the reader's words, naming the field and what is allowed."""
    values = dict(problem.values)
    texts = {
        "one_of": _("Give exactly one of: %(keys)s."),
        "empty": _("%(field)s is empty; name at least one nominee or option."),
        "unknown_id": _("%(field)s names %(id)s, which is not a nominee or option of this item."),
        "choice": _("%(field)s: the choices on this item are %(allowed)s."),
        "not_whole": _("%(field)s must be a whole, non-negative number."),
        "over_limit": _("The ballot gives %(given)s votes; at most %(limit)s are allowed (%(field)s)."),
        "over_seats": _("%(field)s: for %(given)s nominees; at most %(limit)s, one for each seat."),
    }
    for key in ("given", "limit"):
        if key in values:
            values[key] = grouped_number(int(str(values[key])))
    return texts[problem.code] % {"field": problem.field, **values}


def lines_payload(lines: Mapping[Line, int]) -> list[list[object]]:
    """A ballot's lines as its audit link records them: sorted, plain JSON."""
    return [[option, str(choice), shares] for (option, choice), shares in sorted(lines.items())]


def lines_json(lines: Mapping[Line, int]) -> list[dict[str, object]]:
    """A ballot's lines as the API shows them: shares as integer strings."""
    return [
        {"option": option, "choice": str(choice), "shares": str(shares)}
        for (option, choice), shares in sorted(lines.items())
    ]


def stored_lines(ballot: Ballot) -> dict[Line, int]:
    """A ballot's lines as stored, keyed like the rules' lines."""
    return {
        (o, c): s for o, c, s in BallotLine.objects.filter(ballot=ballot).values_list("option_id", "choice", "shares")
    }


def _lines_of(*, poll: Poll, terms: ItemTerms, shares: int, data: Mapping[str, Any]) -> dict[Line, int]:
    ids = frozenset(Option.objects.filter(poll_id=poll.pk).values_list("pk", flat=True))
    standard = ElectionStandard(terms.election_standard) if terms.election_standard else None
    payload = {key: value for key, value in data.items() if key != "holder"}
    try:
        lines = ballot_rules.ballot_lines(
            payload=payload, ids=ids, shares=shares, standard=standard, seats=terms.seats, cumulative=terms.cumulative
        )
    except LineProblem as problem:
        raise InvalidVote(problem_text(problem)) from None
    if not lines:
        raise InvalidVote(_("The ballot gives no shares to anything; vote on at least one nominee or option."))
    return lines


def _open_line_item(*, poll_id: int, actor: User, now: datetime.datetime) -> Poll:
    """The item, read under the ballots' lock, if it is an open election, frequency or choice item."""
    if not actor.is_authenticated or not actor.is_active:
        raise NotEligible(_("Log in to vote."))
    poll = _poll_for_ballot(poll_id)
    if poll.status == PollStatus.DRAFT:
        raise PollNotFound()
    if not isinstance(kinds.form_of(poll), LineItem):
        raise InvalidVote(_("This item is voted with a choice (for, against, abstain) or a split."))
    _check_open(poll, now)
    return poll


def _lines_replace(
    *, poll: Poll, ballot: Ballot, holder: Holder, actor: User, weight: int
) -> tuple[dict[Line, int], int]:
    """Clear a holder's (locked) ballot for its new lines; its old lines and weight."""
    overrides = holder_overrides(holder_user_id=holder.user_id, voter_id=ballot.voter_id, actor_id=actor.pk)
    if not poll.allow_change and not overrides:
        raise ChangeNotAllowed(
            _("A ballot for %(holder)s is already recorded and this item does not allow changes.")
            % {"holder": holder.name}
        )
    old, old_weight = stored_lines(ballot), ballot.weight
    BallotLine.objects.filter(ballot=ballot).delete()
    ballot.voter, ballot.weight = actor, weight
    ballot.save(update_fields=["voter", "weight", "updated_at"])
    return old, old_weight


def item_lines_cast(
    *, poll_id: int, actor: User, data: Mapping[str, Any], now: datetime.datetime | None = None
) -> CastResult:
    """A holder's ballot on an election, frequency or choice item, cast by the holder or its
    proxy: lines checked by the item's terms, the latest ballot for the holder counting.

    On PostgreSQL a holder's own first ballot, the common case, is one statement outside any
    transaction of ours (meetings/ballot_fastpath.py); anything else takes the general path.
    A receipt confirmation the caller asked to go with the ballot (polls.receipt_mail's
    confirmation_with_ballot) is queued in the ballot's statement or transaction: a caller that
    casts outside any transaction then commits the ballot at once, and no voter of the item waits
    on its totals' rows while it queues the confirmation after them."""
    now = now or timezone.now()
    asked = receipt_mail.confirmation_asked()
    if connection.vendor == "postgresql" and actor.is_authenticated and actor.is_active:
        from meetings.ballot_fastpath import first_lines_ballot  # it builds on this module

        first = first_lines_ballot(poll_id=poll_id, actor=actor, data=data, now=now, confirm=asked)
        if first is not None:
            return first
    if asked is None:
        return _item_lines_cast_general(poll_id=poll_id, actor=actor, data=data, now=now)
    with transaction.atomic():
        result = _item_lines_cast_general(poll_id=poll_id, actor=actor, data=data, now=now)
        receipt_mail.ballot_receipts_mail(user=asked.user, link_hashes=[result.link_hash])
    asked.queued = True
    return result


@transaction.atomic
def _item_lines_cast_general(
    *, poll_id: int, actor: User, data: Mapping[str, Any], now: datetime.datetime
) -> CastResult:
    poll = _open_line_item(poll_id=poll_id, actor=actor, now=now)
    # A proxy's ballot is held to its cut-off, the holder's own ballot and its instruction.
    holder = holder_for_ballot(poll=poll, actor=actor, holder_id=data.get("holder"), payload=data, now=now)
    if holder.shares <= 0:
        raise NotEligible(_("That holder has no shares to vote at the record date."))
    terms = ItemTerms.objects.get(poll_id=poll.pk)
    lines = _lines_of(poll=poll, terms=terms, shares=holder.shares, data=data)
    standard = ElectionStandard(terms.election_standard) if terms.election_standard else None
    weight = ballot_rules.ballot_weight(lines, standard=standard, cumulative=terms.cumulative, shares=holder.shares)
    existing = _insert_or_lock_ballot(
        lambda: Ballot.objects.create(poll_id=poll.pk, voter=actor, holder=holder, option_id=None, weight=weight),
        Ballot.objects.filter(poll_id=poll.pk, holder_id=holder.pk),
    )
    created = isinstance(existing, Created)
    ballot = existing.ballot if isinstance(existing, Created) else existing
    old, old_weight = (
        ({}, 0) if created else _lines_replace(poll=poll, ballot=ballot, holder=holder, actor=actor, weight=weight)
    )
    BallotLine.objects.bulk_create(
        BallotLine(ballot=ballot, option_id=option, choice=choice, shares=shares)
        for (option, choice), shares in sorted(lines.items())
    )
    link_hash = _audit_ballot(
        poll, ballot, actor, "ballot_cast" if created else "ballot_changed", extra={"lines": lines_payload(lines)}
    )
    proxy_mail.proxy_vote_queue(ballot=ballot, holder=holder, actor=actor, link_hash=link_hash)
    assert poll.meeting_id is not None  # noqa: S101 - items belong to meetings
    attendance_mark(meeting_id=poll.meeting_id, holder=holder, source=AttendanceSource.BALLOT, actor=actor)
    # Last, so the rows every voter of the item shares are held for the shortest time.
    counters_move(
        poll_id=poll.pk, old=old, new=lines, weight_delta=weight - old_weight, ballots_delta=1 if created else 0
    )
    return CastResult(
        ballot=ballot,
        created=created,
        changed=not created and old != lines,
        link_hash=link_hash,
        detail={"lines": lines_json(lines)},
    )


def lines_withdraw(*, poll: Poll, ballot: Ballot) -> None:
    """Take a withdrawn ballot's lines off the totals (in the withdrawal's transaction)."""
    # The ballot count goes down in the form's after_withdraw, as a proposal's does.
    counters_move(poll_id=poll.pk, old=stored_lines(ballot), new={}, weight_delta=-ballot.weight, ballots_delta=0)


# The console's and the admin's forms refuse with the same words as the API.
NO_LINE_FIGURES = gettext_lazy(
    "Enter at least one figure for a nominee or option: a tabulation without any would count them all as 0."
)


def _tabulation_lines(poll: Poll, lines: Any) -> dict[Line, int]:
    ids = set(Option.objects.filter(poll_id=poll.pk).values_list("pk", flat=True))
    terms = ItemTerms.objects.get(poll_id=poll.pk)
    standard = ElectionStandard(terms.election_standard) if terms.election_standard else None
    allowed = ballot_rules.allowed_choices(standard)
    figures: dict[Line, int] = {}
    for row in lines or []:
        option, choice, shares = row.get("option"), row.get("choice", "for"), row.get("shares")
        if option not in ids:
            raise InvalidPollData(_("lines: %(id)s is not a nominee or option of this item.") % {"id": option})
        if choice not in allowed:
            raise InvalidPollData(
                _("lines: the choices on this item are %(allowed)s.") % {"allowed": ", ".join(allowed)}
            )
        if isinstance(shares, bool) or not isinstance(shares, int) or shares < 0:
            raise InvalidPollData(_("Tabulated totals must not be negative."))
        if (option, choice) in figures:
            raise InvalidPollData(_("lines: each nominee or option and choice appears once."))
        figures[(option, LineChoice(choice))] = shares
    return figures


@transaction.atomic
def lines_tabulation_record(
    *, poll: Poll, actor: User, lines: Any, broker_non_votes: int = 0, source: str = "", **_ignored: Any
) -> Tabulation:
    """The inspector's official figures per nominee or option (with broker non-votes) for an
    election, frequency or choice item, once it has closed; they replace the ballots' totals."""
    poll = _locked_poll(poll.pk)
    if poll.status == PollStatus.CERTIFIED:
        raise IllegalTransition(_("The item is certified; its result is frozen."))
    if poll.effective_status() != PollStatus.CLOSED:
        raise IllegalTransition(refusals.TABULATION_BEFORE_CLOSE)
    if broker_non_votes < 0:
        raise InvalidPollData(_("Tabulated totals must not be negative."))
    figures = _tabulation_lines(poll, lines)
    if not figures:
        # Recorded, it would replace every ballot with 0 until certified, and an empty
        # submission is far likelier an untouched form than an inspector's finding.
        raise InvalidPollData(NO_LINE_FIGURES)
    assert poll.meeting is not None  # noqa: S101 - items belong to meetings
    form = kinds.form_of(poll)
    assert isinstance(form, LineItem)  # noqa: S101 - the forms' tabulate calls this
    present = form.tabulated_present(figures, ItemTerms.objects.get(poll_id=poll.pk)) + broker_non_votes
    outstanding = poll.meeting.register.shares_outstanding
    if present > outstanding:
        raise InvalidPollData(
            _("The tabulation counts %(counted)s shares, more than the %(outstanding)s outstanding.")
            % {"counted": grouped_number(present), "outstanding": grouped_number(outstanding)}
        )
    audit_append(
        stream=f"poll:{poll.pk}",
        action="tabulation_recorded",
        actor=actor,
        payload={"lines": lines_payload(figures), "bnv": broker_non_votes},
    )
    tabulation, _created = Tabulation.objects.update_or_create(
        poll=poll,
        defaults={
            "shares_for": 0,
            "shares_against": 0,
            "shares_abstain": 0,
            "broker_non_votes": broker_non_votes,
            "source": source,
            "entered_by": actor,
        },
    )
    TabulationLine.objects.filter(tabulation=tabulation).delete()
    TabulationLine.objects.bulk_create(
        TabulationLine(tabulation=tabulation, option_id=option, choice=choice, shares=shares)
        for (option, choice), shares in sorted(figures.items())
    )
    return tabulation


@transaction.atomic
def annual_item_create(
    *,
    meeting: Any,
    kind: str,
    title: str,
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    actor: User | None,
    nominees: list[str] | None = None,
    options: list[str] | None = None,
    seats: int | None = None,
    election_standard: str = "",
    cumulative: bool = False,
    threshold: str | None = None,
    comparator: str = ">",
    description: str = "",
    allow_change: bool = True,
    results_visibility: str = "after_close",
) -> Poll:
    """An election, frequency or choice item on the meeting's ballot, with its nominees or
    options and its terms. A frequency vote is advisory; a choice item may need a threshold."""
    from meetings.meeting_services import item_terms_problems
    from polls.permissions import poll_manager_required
    from polls.services import _parse_fraction, _refuse_bidi_overrides, _refuse_control_characters

    poll_manager_required(actor)
    _refuse_control_characters(title=title)
    _refuse_bidi_overrides(description=description)
    problems = item_terms_problems(
        meeting=meeting, opens_at=opens_at, closes_at=closes_at, standard="plurality", threshold=threshold or "1/2"
    )
    if problems:
        raise InvalidPollData(next(iter(problems.values())))
    form = kinds.form_for(kind)
    assert isinstance(form, LineItem)  # noqa: S101 - the forms' create calls this with their own kind
    if threshold is not None and not form.takes_threshold:
        raise InvalidPollData(_("Only a choice item takes a threshold."))
    labels, codes = form.item_labels(nominees=nominees, options=options, title=title)
    if seats is None:
        # Majority voting is for uncontested elections: a seat for each nominee by default.
        seats = len(labels) if election_standard == ElectionStandard.MAJORITY else 1
    form.terms_check(seats=seats, election_standard=election_standard, cumulative=cumulative, nominees=len(labels))
    fraction = _parse_fraction(threshold or "1/2", comparator, what=_("threshold"))
    poll = Poll.objects.create(
        title=title,
        description=description,
        kind=kind,
        meeting=meeting,
        standard="plurality",
        threshold_numerator=fraction.fraction.numerator,
        threshold_denominator=fraction.fraction.denominator,
        threshold_comparator=str(fraction.comparator),
        advisory=form.always_advisory,
        opens_at=opens_at,
        closes_at=closes_at,
        allow_change=allow_change,
        results_visibility=results_visibility,
        created_by=actor,
    )
    created = Option.objects.bulk_create(
        Option(poll=poll, label=label, position=i, code=codes.get(i, "")) for i, label in enumerate(labels)
    )
    if form.has_nominees:
        NomineeTally.objects.bulk_create(NomineeTally(option=option) for option in created)
    ItemTerms.objects.create(
        poll=poll,
        seats=seats,
        election_standard=election_standard,
        cumulative=cumulative,
        has_threshold=threshold is not None,
    )
    audit_append(
        stream=f"poll:{poll.pk}",
        action="item_created",
        actor=actor,
        payload={
            "kind": kind,
            "options": labels,
            "seats": seats,
            "standard": election_standard,
            "cumulative": cumulative,
        },
    )
    return poll
