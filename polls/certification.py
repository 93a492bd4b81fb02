"""Certification: every ballot counted again, the inspector's tabulation set beside that
recount, and the result frozen under the certifier's name (DESIGN, Trust: "Certification is
final"). What is frozen is everything the pages, the API and the exports show for the item,
with the rules it was decided under, so nothing served afterwards is recomputed."""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_root_snapshot
from polls import kinds, results, trail_records
from polls.exceptions import IllegalTransition, RecountMismatch
from polls.models import Ballot, Option, Poll, PollStatus
from polls.services import _audit_poll, _locked_poll, _record_close, _status_word, grouped_number
from polls.signals import poll_certified


class RecordOffTrail(RecountMismatch):
    """A record kept beside the item (the inspector's tabulation, the item's rules) differs from
    the link that wrote it: it was written by SQL, and certifying would freeze it."""


class TabulationDiffers(RecountMismatch):
    """The inspector's figures and the ballots disagree: certifying them needs the secretary's
    explicit confirmation (409 until given), of this very difference (its digest)."""

    def __init__(self, message: str, *, digest: str) -> None:
        super().__init__(message)
        self.digest = digest

    def extra(self) -> dict[str, object]:
        return {"difference_digest": self.digest}


@dataclass(frozen=True)
class RecountLine:
    option_id: int
    label: str
    running_votes: int
    counted_votes: int
    running_weight: int
    counted_weight: int

    @property
    def matches(self) -> bool:
        return self.running_votes == self.counted_votes and self.running_weight == self.counted_weight


def poll_recount(*, poll: Poll) -> list[RecountLine]:
    """Count every ballot again, beside the running totals (one aggregate query)."""
    ballots = Ballot.objects.filter(poll_id=poll.pk)
    options = list(Option.objects.filter(poll_id=poll.pk).order_by("position", "id"))
    counted = kinds.form_of(poll).recount(poll=poll, ballots=ballots, options=options)
    return [
        RecountLine(
            option_id=option.pk,
            label=option.label,
            running_votes=option.votes,
            counted_votes=counted.get(option.pk, (0, 0))[0],
            running_weight=option.weight,
            counted_weight=counted.get(option.pk, (0, 0))[1],
        )
        for option in options
    ]


@dataclass(frozen=True)
class TabulationLine:
    code: str  # for, against, abstain
    label: str
    tabulated: int
    counted: int

    @property
    def difference(self) -> int:
        return self.tabulated - self.counted


@dataclass(frozen=True)
class TabulationComparison:
    """The inspector's figures beside the ballots' recount, per choice. Broker non-votes have
    no ballots to compare with; they are shown, not compared."""

    lines: list[TabulationLine]
    broker_non_votes: int
    source: str

    @property
    def differs(self) -> bool:
        return any(line.difference for line in self.lines)

    def difference_text(self) -> str:
        """ "For +8,000; Against -1,500", in the reader's language and number format."""
        return "; ".join(
            f"{line.label} {'+' if line.difference > 0 else '-'}{grouped_number(abs(line.difference))}"
            for line in self.lines
            if line.difference
        )

    def digest(self) -> str:
        """Names these figures and this difference: a confirmation given for them is not one for
        figures entered again meanwhile."""
        return hashlib.sha256(json.dumps(self.as_json(), sort_keys=True).encode()).hexdigest()[:32]

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "broker_non_votes": str(self.broker_non_votes),
            "lines": [
                {
                    "choice": line.code,
                    "tabulated": str(line.tabulated),
                    "counted": str(line.counted),
                    "difference": str(line.difference),
                }
                for line in self.lines
            ],
        }


def tabulation_comparison(*, poll: Poll, recount: list[RecountLine] | None = None) -> TabulationComparison | None:
    """None when the item has no inspector's tabulation (or is a public poll)."""
    tabulation = kinds.form_of(poll).official_totals(poll)
    if tabulation is None:
        return None
    recount = recount if recount is not None else poll_recount(poll=poll)
    counted = {line.option_id: line.counted_weight for line in recount}
    return TabulationComparison(
        lines=[
            TabulationLine(code=code, label=label, tabulated=tabulated, counted=count)
            for code, label, tabulated, count in kinds.form_of(poll).tabulation_lines(
                poll=poll, official=tabulation, counted=counted
            )
        ],
        broker_non_votes=tabulation.broker_non_votes,
        source=tabulation.source,
    )


def _recount_details(poll: Poll, recount: list[RecountLine]) -> list[str]:
    details = [
        _(
            "%(label)s: running %(running_votes)d votes / %(running_weight)d weight, "
            "recount %(counted_votes)d / %(counted_weight)d"
        )
        % {
            "label": line.label,
            "running_votes": line.running_votes,
            "running_weight": line.running_weight,
            "counted_votes": line.counted_votes,
            "counted_weight": line.counted_weight,
        }
        for line in recount
        if not line.matches
    ]
    ballot_count = kinds.form_of(poll).ballot_count_check(poll)
    if ballot_count is not None:
        running, counted = ballot_count
        details.append(
            _("ballots: running %(running)d, recount %(counted)d") % {"running": running, "counted": counted}
        )
    details.extend(kinds.form_of(poll).tally_problems(poll))
    return details


def _confirmation_check(comparison: TabulationComparison, confirm: _Confirmation) -> None:
    digest = comparison.digest()
    if not confirm.given:
        raise TabulationDiffers(
            _(
                "The inspector's tabulation differs from the ballots' recount (%(difference)s); "
                "confirm certifying the inspector's figures despite the difference."
            )
            % {"difference": comparison.difference_text()},
            digest=digest,
        )
    if confirm.digest is not None and confirm.digest != digest:
        raise TabulationDiffers(
            _(
                "The inspector's tabulation was entered again since the difference you confirmed; it "
                "now differs from the ballots' recount by %(difference)s. Confirm this difference to certify."
            )
            % {"difference": comparison.difference_text()},
            digest=digest,
        )


def certified_rules(poll: Poll) -> dict[str, Any]:
    """The rules and the register the item was decided under, as they stand at certification
    (frozen since it opened): later edits, even by SQL, change nothing served."""
    rules: dict[str, Any] = {"kind": poll.kind, "title": poll.title}
    rules.update(kinds.form_of(poll).certified_rules(poll))
    return rules


@transaction.atomic
def poll_certify(
    *,
    poll: Poll,
    actor: User,
    now: datetime.datetime | None = None,
    confirm_difference: bool = False,
    difference_digest: str | None = None,
) -> Poll:
    """Recount, compare with the running totals (and with the inspector's tabulation, whose
    difference the certifier must confirm), and freeze the result under the certifier's name."""
    now = now or timezone.now()
    poll = _locked_poll(poll.pk)
    if poll.effective_status(now) != PollStatus.CLOSED:
        raise IllegalTransition(
            _("Only a closed poll can be certified; this one is %(status)s.")
            % {"status": _status_word(poll.effective_status(now))}
        )
    if poll.status != PollStatus.CLOSED:
        # Past its closing time but not yet swept: record the close first, so whatever reacts
        # to a close (escalation) sees it before the certification.
        _record_close(poll, at=poll.closes_at, actor=None)
    # One reading: the recount's pass over the ballots also answers the checks beside it.
    with kinds.one_reading(poll):
        return _certify_counted(
            poll=poll, actor=actor, now=now, confirm=_Confirmation(confirm_difference, difference_digest)
        )


@dataclass(frozen=True)
class _Confirmation:
    given: bool
    # The digest of the difference the certifier saw (the console's page, a 409's body); None
    # from an API client that confirms whatever the difference is now.
    digest: str | None


def _certify_counted(*, poll: Poll, actor: User, now: datetime.datetime, confirm: _Confirmation) -> Poll:
    forged = trail_records.certification_refusal(poll) or trail_records.subject_refusal(poll)
    if forged is not None:
        # No confirmation lets it through: a confirmed difference is one the secretary saw
        # between the inspector's figures and the ballots, not figures nobody entered.
        raise RecordOffTrail(str(forged))
    recount = poll_recount(poll=poll)
    details = _recount_details(poll, recount)
    if details:
        detail = "; ".join(details)
        raise RecountMismatch(
            _("Certification stopped, the running totals differ from the recount: %(detail)s.") % {"detail": detail}
        )
    comparison = tabulation_comparison(poll=poll, recount=recount)
    confirmed: dict[str, Any] | None = None
    if comparison is not None and comparison.differs:
        _confirmation_check(comparison, confirm)
        confirmed = {"by": actor.get_username(), "by_id": actor.pk, **comparison.as_json()}
    poll.status = PollStatus.CERTIFIED
    poll.certified_at = now
    poll.certified_by = actor
    record = results.results_json(results.live_results(poll=poll, now=now))
    # The trail's root now, so `verify_audit --certified` can prove the trail as certified.
    poll.certified_audit_root = audit_root_snapshot().as_json()
    record["certification"] = {
        **certified_rules(poll),
        "certified_by": actor.get_username(),
        "certified_by_id": actor.pk,
        "certified_at": results.iso_datetime(now),
        "tabulation": comparison.as_json() if comparison is not None else None,
        "confirmed_difference": confirmed,
        "audit_root": poll.certified_audit_root,
    }
    poll.certified_result = record
    poll.save(
        update_fields=[
            "status",
            "certified_at",
            "certified_by",
            "certified_result",
            "certified_audit_root",
            "updated_at",
        ]
    )
    _audit_poll(
        poll, "poll_certified", actor, at=now, result=poll.certified_result, audit_root=poll.certified_audit_root
    )
    if confirmed is not None:
        _audit_poll(poll, "tabulation_difference_confirmed", actor, at=now, **confirmed)
    poll_certified.send(sender=Poll, poll_id=poll.pk)
    return poll
