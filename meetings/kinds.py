"""The shareholder item's ballot form: a holder's shares spread over for, against and abstain,
cast by the holder or its proxy, decided by a standard against the meeting's register."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext as _

from meetings.disinterest import disinterested_tally, interested_mark, interested_of, tally_json
from meetings.models import Holder, Tabulation
from polls import kinds, refusals, results
from polls.exceptions import InvalidPollData, NotEligible
from polls.models import Ballot, Choice, Option, Poll, PollKind
from polls.services import CHOICE_LABELS
from polls.standards import Comparator, Threshold

if TYPE_CHECKING:
    from django import forms
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
    api_kind = PollKind.SHAREHOLDER
    form_name = "proposal"
    share_weighted = True
    listed = False  # on its meeting's page
    option_ballots = False  # a holder's shares, on the meeting's ballot
    may_be_secret = False  # a shareholder vote is public
    fixed_options = True  # for, against, abstain
    decided_by_standard = True
    takes_tabulation = True
    escalates = False

    def ballot_of(self, *, poll: Poll, user: User | AnonymousUser, holder_id: int | None) -> Ballot | None:
        from meetings.selectors import holders_represented

        assert poll.meeting is not None  # noqa: S101 - the check constraint ties items to meetings
        holders = holders_represented(user=user, meeting=poll.meeting)
        if holder_id is not None:
            holders = [holder for holder in holders if holder.pk == holder_id]
        if len(holders) != 1:
            return None
        ballots = Ballot.objects.filter(poll_id=poll.pk, holder_id=holders[0].pk)
        if holders[0].user_id != user.pk:
            ballots = ballots.filter(voter_id=user.pk)  # a proxy reads its own ballot, not the holder's
        return ballots.select_related("option").first()

    def ballot_to_withdraw(
        self, *, poll: Poll, actor: User, holder_id: int | None, ballots: QuerySet[Ballot]
    ) -> Ballot | None:
        from meetings.services import holder_for_ballot

        holder: Holder = holder_for_ballot(poll=poll, actor=actor, holder_id=holder_id)
        return ballots.filter(holder_id=holder.pk).first()

    def withdraw_deltas(self, *, poll: Poll, ballot: Ballot) -> dict[int, tuple[int, int]]:
        options = dict(Option.objects.filter(poll_id=poll.pk).values_list("code", "pk"))
        old = {code: getattr(ballot, SHARE_FIELDS[code]) or 0 for code in Choice.values}
        return share_deltas(options, old, {code: 0 for code in Choice.values})

    def recount(self, *, poll: Poll, ballots: QuerySet[Ballot], options: list[Option]) -> dict[int, tuple[int, int]]:
        """A split ballot counts once for each choice it gives shares to. The ballots themselves
        are counted in the same pass, for ballot_count_check in the same reading."""
        sums = ballots.aggregate(
            **{f"{code}_n": Count("id", filter=Q(**{f"{SHARE_FIELDS[code]}__gt": 0})) for code in Choice.values},
            **{f"{code}_w": Sum(SHARE_FIELDS[code]) for code in Choice.values},
            ballots_counted=Count("id"),
        )
        kinds.remember(poll, "ballots_counted", sums["ballots_counted"])
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

    def ballots_cast(self, poll: Poll, *, votes: int) -> int:
        # A split ballot counts once for each choice it gives shares to: the item keeps its own count.
        return poll.ballot_count

    def after_withdraw(self, *, poll: Poll) -> None:
        Poll.objects.filter(pk=poll.pk).update(ballot_count=F("ballot_count") - 1)

    def ballot_count_check(self, poll: Poll) -> tuple[int, int] | None:
        counted = kinds.read_once(poll, "ballots_counted", Ballot.objects.filter(poll_id=poll.pk).count)
        return None if counted == poll.ballot_count else (poll.ballot_count, counted)

    def totals(self, *, poll: Poll, options: list[Option]) -> results.ShareTotals | None:
        meeting = poll.meeting
        assert meeting is not None  # noqa: S101 - items belong to meetings
        outstanding = meeting.register.shares_outstanding
        return results.share_totals(
            options=options,
            outstanding=outstanding,
            official=self.official_totals(poll),
            attending=meeting.shares_present,
        )

    def decide(self, *, poll: Poll, totals: results.ShareTotals | None) -> results.ItemDecision:
        meeting = poll.meeting
        assert meeting is not None and totals is not None  # noqa: S101 - items belong to meetings and have totals
        quorum = Threshold(
            Fraction(meeting.quorum_numerator, meeting.quorum_denominator), Comparator(meeting.quorum_comparator)
        )
        decision = results.item_decision(poll, totals, quorum)
        tally = disinterested_tally(poll=poll, totals=totals)
        quorum_result, outcome, what_if = decision
        if tally is not None and outcome is not None and outcome.passed and not tally.passed:
            # Both must pass: the disinterested shares' refusal decides (the what-if in
            # results_extra shows the outcome without the condition).
            outcome = replace(outcome, passed=False, reason="failed")
        return quorum_result, outcome, what_if

    extra_keys: tuple[str, ...] = ("attendance", "disinterested")

    def results_extra(self, *, poll: Poll, options: list[Option], weights: list[int]) -> dict[str, Any]:
        """The meeting's attendance the item was decided with (its quorum and, under
        present-and-entitled, its base), and the disinterested shares' tally when it needs one."""
        assert poll.meeting is not None  # noqa: S101 - items belong to meetings
        extra: dict[str, Any] = {"attendance": {"shares_present": str(poll.meeting.shares_present)}}
        if not self.decided_by_standard:
            return extra
        totals = self.totals(poll=poll, options=options)
        tally = disinterested_tally(poll=poll, totals=totals) if totals is not None else None
        if tally is not None and totals is not None:
            meeting = poll.meeting
            quorum = Threshold(
                Fraction(meeting.quorum_numerator, meeting.quorum_denominator), Comparator(meeting.quorum_comparator)
            )
            without = results.item_decision(poll, totals, quorum)[1]
            extra["disinterested"] = tally_json(tally, overall_passed=bool(without and without.passed))
        return extra

    def interested(self, poll: Poll) -> list[Any]:
        return interested_of(poll)

    def interested_mark(self, *, poll: Poll, holder_id: int, reason: str, actor: User) -> Any:
        return interested_mark(poll=poll, holder_id=holder_id, reason=reason, actor=actor)

    def ballot_choices(self, ballots: Sequence[Ballot]) -> dict[int, str]:
        return {
            b.pk: f"for {b.shares_for:,} / against {b.shares_against:,} / abstain {b.shares_abstain:,}" for b in ballots
        }

    def tally_problems(self, poll: Poll) -> list[str]:
        from meetings.attendance import attendance_problem
        from meetings.proxy_trail import proxy_problem
        from meetings.recommendations import recommendation_problems

        assert poll.meeting is not None  # noqa: S101 - items belong to meetings
        problems = [attendance_problem(poll.meeting), proxy_problem(poll.meeting)]
        return [problem for problem in problems if problem] + recommendation_problems(poll)

    def trail_problems(self, poll: Poll) -> list[str]:
        from meetings.proxy_trail import proxy_ballot_problem

        problem = proxy_ballot_problem(poll)
        return [problem] if problem else []

    def option_weights(self, *, poll: Poll, options: list[Option], totals: results.ShareTotals | None) -> list[int]:
        if totals is not None and totals.source == "tabulation":
            by_code = {Choice.FOR: totals.for_, Choice.AGAINST: totals.against, Choice.ABSTAIN: totals.abstain}
            return [by_code[Choice(option.code)] for option in options]
        return [option.weight for option in options]

    def option_label(self, label: str) -> str:
        """Options are stored as "For", "Against", "Abstain" (the filings are in English);
        readers see them in their own language."""
        for choice in Choice:
            if label == CHOICE_LABELS[choice]:
                return str(choice.label)
        return label

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
        from meetings.meeting_services import item_terms_problems

        return item_terms_problems(
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

    def options_check(self, *, labels: list[str], creating: bool) -> None:
        if labels and creating:
            raise InvalidPollData("A shareholder item gets its options (for, against, abstain) by itself.")

    def create_problem(self, data: Mapping[str, Any]) -> dict[str, str]:
        if "meeting" not in data:
            return {"meeting": _("A shareholder item belongs to a meeting.")}
        if "options" in data or "nominees" in data:
            return {"options": _("A shareholder item's options are for, against, abstain.")}
        if data.get("secret"):
            return {"secret": str(refusals.ITEM_NOT_SECRET)}
        return {}

    def draft_form(self, poll: Poll, data: Any = None) -> forms.Form:
        from polls.forms import ItemDraftForm

        return ItemDraftForm.for_poll(poll, data)

    def check_option_ballot(self) -> None:
        raise NotEligible(_("This poll is a shareholder vote; use the meeting ballot."))

    def check_share_ballot(self) -> None:
        """A holder's ballot of shares is how an item votes."""

    def create(self, *, data: Mapping[str, Any], common: Mapping[str, Any]) -> Poll:
        from meetings.disinterest import item_disinterest_set
        from meetings.meeting_services import item_create
        from meetings.recommendations import item_recommendation_set

        poll = item_create(
            meeting=data["meeting"],
            standard=data["standard"],
            threshold=data.get("threshold", "1/2"),
            comparator=data["comparator"],
            advisory=data["advisory"],
            **common,
        )
        if data.get("disinterested_standard"):
            item_disinterest_set(
                poll=poll,
                standard=data["disinterested_standard"],
                threshold=data.get("disinterested_threshold", "1/2"),
                comparator=data.get("disinterested_comparator", ">"),
                actor=common.get("actor"),
            )
        if data.get("recommendation"):
            item_recommendation_set(poll=poll, recommendation=data["recommendation"], actor=common.get("actor"))
        return poll

    def rules_update(self, *, poll: Poll, actor: User | None, **rules: Any) -> Poll:
        from meetings.meeting_services import item_rules_update

        return item_rules_update(poll=poll, actor=actor, **rules)

    def tabulate(self, *, poll: Poll, actor: User, **figures: Any) -> None:
        from meetings.services import tabulation_record

        if "lines" in figures:
            raise InvalidPollData(_("A proposal is tabulated as shares for, against and abstain, not lines."))
        tabulation_record(poll=poll, actor=actor, **figures)

    def cast(self, *, poll_id: int, actor: User, data: Mapping[str, Any]) -> CastResult:
        from meetings.services import item_ballot_cast

        return item_ballot_cast(
            poll_id=poll_id,
            actor=actor,
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
