"""The shareholder item's ballot form: a holder's shares spread over for, against and abstain,
cast by the holder or its proxy, decided by a standard against the meeting's register."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, Sum

from meetings.models import Holder, Tabulation
from polls import kinds
from polls.models import Ballot, Choice, Option, Poll, PollKind
from polls.standards import Comparator, Threshold

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models import QuerySet

    from polls.ballots import CastResult

SHARE_FIELDS: dict[str, str] = {
    Choice.FOR: "shares_for",
    Choice.AGAINST: "shares_against",
    Choice.ABSTAIN: "shares_abstain",
}


def share_deltas(options: dict[str, int], old: dict[str, int], new: dict[str, int]) -> dict[int, tuple[int, int]]:
    return {options[code]: (int(new[code] > 0) - int(old[code] > 0), new[code] - old[code]) for code in Choice.values}


class ShareholderItem(kinds.BallotForm):
    kind = PollKind.SHAREHOLDER
    share_weighted = True

    def ballot_of(self, *, poll: Poll, user: User | AnonymousUser, holder_id: int | None) -> Ballot | None:
        from meetings.selectors import holders_represented

        assert poll.meeting is not None  # noqa: S101 - the check constraint ties items to meetings
        holders = [h.pk for h in holders_represented(user=user, meeting=poll.meeting)]
        if holder_id is not None:
            holders = [pk for pk in holders if pk == holder_id]
        if len(holders) != 1:
            return None
        return Ballot.objects.filter(poll_id=poll.pk, holder_id=holders[0]).select_related("option").first()

    def ballot_to_withdraw(
        self, *, poll: Poll, actor: User, holder_id: int | None, ballots: QuerySet[Ballot]
    ) -> Ballot | None:
        from meetings.services import holder_for_ballot

        holder: Holder = holder_for_ballot(poll=poll, user=actor, holder_id=holder_id)
        return ballots.filter(holder_id=holder.pk).first()

    def withdraw_deltas(self, *, poll: Poll, ballot: Ballot) -> dict[int, tuple[int, int]]:
        options = dict(Option.objects.filter(poll_id=poll.pk).values_list("code", "pk"))
        old = {code: getattr(ballot, SHARE_FIELDS[code]) or 0 for code in Choice.values}
        return share_deltas(options, old, {code: 0 for code in Choice.values})

    def recount(self, *, poll: Poll, ballots: QuerySet[Ballot], options: list[Option]) -> dict[int, tuple[int, int]]:
        """A split ballot counts once for each choice it gives shares to."""
        sums = ballots.aggregate(
            **{f"{code}_n": Count("id", filter=Q(**{f"{SHARE_FIELDS[code]}__gt": 0})) for code in Choice.values},
            **{f"{code}_w": Sum(SHARE_FIELDS[code]) for code in Choice.values},
        )
        return {
            option.pk: (sums[f"{option.code}_n"], sums[f"{option.code}_w"] or 0) for option in options if option.code
        }

    def eligible_voters(self, poll: Poll) -> int:
        assert poll.meeting is not None  # noqa: S101 - items belong to meetings
        return poll.meeting.register.holder_count

    def official_totals(self, poll: Poll) -> kinds.OfficialTotals | None:
        row = Tabulation.objects.filter(poll_id=poll.pk).first()
        if row is None:
            return None
        return kinds.OfficialTotals(
            by_code={
                Choice.FOR: row.shares_for,
                Choice.AGAINST: row.shares_against,
                Choice.ABSTAIN: row.shares_abstain,
            },
            broker_non_votes=row.broker_non_votes,
            source=row.source,
        )

    def share_rules(self, poll: Poll) -> kinds.ShareRules:
        meeting = poll.meeting
        assert meeting is not None  # noqa: S101 - items belong to meetings
        return kinds.ShareRules(
            outstanding=meeting.register.shares_outstanding,
            quorum=Threshold(
                Fraction(meeting.quorum_numerator, meeting.quorum_denominator), Comparator(meeting.quorum_comparator)
            ),
        )

    def terms_problems(
        self,
        *,
        meeting: object | None,
        opens_at: datetime.datetime | None,
        closes_at: datetime.datetime | None,
        standard: str,
        threshold: str,
        comparator: str,
    ) -> dict[str, str]:
        from meetings.meeting_services import poll_terms_problems

        return poll_terms_problems(
            kind=self.kind,
            meeting=meeting,  # type: ignore[arg-type]
            opens_at=opens_at,
            closes_at=closes_at,
            standard=standard,
            threshold=threshold,
            comparator=comparator,
        )

    def options_ensure(self, poll: Poll) -> None:
        from meetings.services import item_options_ensure

        item_options_ensure(poll=poll)

    def create(self, *, data: Mapping[str, Any], common: Mapping[str, Any]) -> Poll:
        from meetings.meeting_services import item_create

        return item_create(
            meeting=data["meeting"],
            standard=data["standard"],
            threshold=data["threshold"],
            comparator=data["comparator"],
            advisory=data["advisory"],
            **common,
        )

    def rules_update(self, *, poll: Poll, actor: User | None, **rules: Any) -> Poll:
        from meetings.meeting_services import item_rules_update

        return item_rules_update(poll=poll, actor=actor, **rules)

    def tabulate(self, *, poll: Poll, actor: User, **figures: Any) -> None:
        from meetings.services import tabulation_record

        tabulation_record(poll=poll, entered_by=actor, **figures)

    def cast(self, *, poll_id: int, actor: User, data: Mapping[str, Any]) -> CastResult:
        from meetings.services import item_ballot_cast

        return item_ballot_cast(
            poll_id=poll_id,
            voter=actor,
            choice=data.get("choice"),
            split=data.get("split"),
            holder_id=data.get("holder"),
        )

    def certified_rules(self, poll: Poll) -> dict[str, Any]:
        meeting = poll.meeting
        assert meeting is not None  # noqa: S101 - items belong to meetings
        return {
            "standard": poll.standard,
            "threshold": poll.threshold_text,
            "comparator": poll.threshold_comparator,
            "advisory": poll.advisory,
            "meeting": meeting.pk,
            "register": meeting.register_id,
            "shares_outstanding": str(meeting.register.shares_outstanding),
            "quorum": meeting.quorum_text,
            "quorum_comparator": meeting.quorum_comparator,
        }
