"""The annual meeting's ballot forms beside the proposal (meetings/kinds.py): a director
election, the say-on-pay frequency and a multiple choice. Their ballots are lines (shares to a
choice on a nominee or option, meetings.BallotLine); the `for` lines move the options' own
counters, the others a nominee's tally. Registered in MeetingsConfig.ready()."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from meetings import ballot_rules, tally_checks
from meetings.ballot_models import BallotLine, ItemTerms, NomineeTally, TabulationLine
from meetings.ballot_rules import ElectionStandard, LineChoice, NomineeFigures
from meetings.ballot_selectors import ballot_lines_by_ballot
from meetings.kinds import ShareholderItem
from meetings.models import Tabulation
from polls import kinds, results
from polls.exceptions import InvalidPollData
from polls.models import Ballot, Option, Poll, PollKind
from polls.standards import Comparator, Threshold, percent_of

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

    from polls.ballots import CastResult

FREQUENCY_WORDS = {
    "1 Year": gettext_lazy("1 year"),
    "2 Years": gettext_lazy("2 years"),
    "3 Years": gettext_lazy("3 years"),
    "Abstain": gettext_lazy("Abstain"),
}


LINE_WORDS = {
    "for": gettext_lazy("For"),
    "against": gettext_lazy("Against"),
    "abstain": gettext_lazy("Abstain"),
    "withhold": gettext_lazy("Withhold"),
}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


# Stored in English, as the filings are; readers see them in their language (option_label).
FREQUENCY_LABELS = ("1 Year", "2 Years", "3 Years", "Abstain")
MAX_SEATS = 50


class LineItem(ShareholderItem):
    """What the three forms share: a holder's ballot of lines, cast by the holder or its proxy,
    tabulated per nominee or option, and terms of their own instead of a vote standard."""

    decided_by_standard = False
    extra_keys: tuple[str, ...] = ("form", "attendance")
    # Its options are nominees, each with a tally of against (or withheld) and abstain.
    has_nominees = False
    # The vote only advises the board (say-on-pay frequency).
    always_advisory = False
    # The winner must also reach a threshold of the votes cast, when one is given.
    takes_threshold = False

    def item_labels(
        self, *, nominees: list[str] | None, options: list[str] | None, title: str
    ) -> tuple[list[str], dict[int, str]]:
        """The labels of a new item's options, checked, and the codes some carry (by position)."""
        from polls.services import _clean_options

        if nominees:
            raise InvalidPollData(_("Only an election lists nominees."))
        return _clean_options(options or [], title=title), {}

    def terms_check(self, *, seats: int, election_standard: str, cumulative: bool, nominees: int) -> None:
        if cumulative or election_standard or seats != 1:
            raise InvalidPollData(_("Seats, the election standard and cumulative voting are for elections only."))

    def terms(self, poll: Poll) -> ItemTerms:
        return kinds.read_once(poll, "terms", lambda: ItemTerms.objects.get(poll_id=poll.pk))

    def withdraw_deltas(self, *, poll: Poll, ballot: Ballot) -> dict[int, tuple[int, int]]:
        from meetings.ballot_services import lines_withdraw

        # Every total a ballot of lines moved is moved back here, in the withdrawal's transaction.
        lines_withdraw(poll=poll, ballot=ballot)
        return {}

    def recount(self, *, poll: Poll, ballots: QuerySet[Ballot], options: list[Option]) -> dict[int, tuple[int, int]]:
        rows = (
            BallotLine.objects.filter(ballot__in=ballots, choice=LineChoice.FOR)
            .values("option_id")
            .annotate(n=Count("id"), w=Sum("shares"))
            .order_by()
        )
        return {row["option_id"]: (row["n"], row["w"] or 0) for row in rows}

    def ballot_detail(self, ballot: Ballot) -> dict[str, Any]:
        from meetings.ballot_services import lines_json, stored_lines

        return {"lines": lines_json(stored_lines(ballot))}

    def ballot_choices(self, ballots: Sequence[Ballot]) -> dict[int, str]:
        # The row's share columns are empty on these ballots: their shares are in their lines.
        lines = ballot_lines_by_ballot([ballot.pk for ballot in ballots])
        return {
            ballot.pk: "; ".join(
                self._line_words(label, choice, shares) for label, choice, shares in lines.get(ballot.pk, [])
            )
            for ballot in ballots
        }

    def _line_words(self, label: str, choice: str, shares: int) -> str:
        if self.has_nominees:
            return f"{label}: {LINE_WORDS[choice]} {shares:,}"
        return f"{self.option_label(label)}: {shares:,}"

    def tally_problems(self, poll: Poll) -> list[str]:
        problems = super().tally_problems(poll)
        terms = self.terms(poll)
        voted = Ballot.objects.filter(poll_id=poll.pk).aggregate(w=Sum("weight"))["w"] or 0
        if voted != terms.shares_voted:
            problems.append(
                _("shares voted: running %(running)d, ballots %(counted)d")
                % {"running": terms.shares_voted, "counted": voted}
            )
        problems.extend(tally_checks.nominee_problems(poll))
        problems.extend(tally_checks.line_link_problems(poll))
        return problems

    def tabulated(self, poll: Poll) -> tuple[dict[tuple[int, str], int], Tabulation] | None:
        return kinds.read_once(poll, "tabulated", lambda: self._tabulated(poll))

    def _tabulated(self, poll: Poll) -> tuple[dict[tuple[int, str], int], Tabulation] | None:
        row = Tabulation.objects.filter(poll_id=poll.pk).first()
        if row is None:
            return None
        lines = TabulationLine.objects.filter(tabulation=row).values_list("option_id", "choice", "shares")
        return {(option, choice): shares for option, choice, shares in lines}, row

    def official_totals(self, poll: Poll) -> kinds.OfficialTotals | None:
        tabulated = self.tabulated(poll)
        if tabulated is None:
            return None
        lines, row = tabulated
        return kinds.OfficialTotals(
            by_code={f"{option}:{choice}": shares for (option, choice), shares in lines.items()},
            broker_non_votes=row.broker_non_votes,
            source=row.source,
        )

    def totals(self, *, poll: Poll, options: list[Option]) -> results.ShareTotals | None:
        return None

    def tabulation_lines(
        self, *, poll: Poll, official: kinds.OfficialTotals, counted: dict[int, int]
    ) -> list[tuple[str, str, int, int]]:
        """Per nominee or option and choice: what the inspector entered beside the recount."""
        recounted = {
            f"{row['option_id']}:{row['choice']}": row["w"] or 0
            for row in BallotLine.objects.filter(ballot__poll_id=poll.pk)
            .values("option_id", "choice")
            .annotate(w=Sum("shares"))
            .order_by()
        }
        labels = dict(Option.objects.filter(poll_id=poll.pk).values_list("pk", "label"))
        codes = sorted(official.by_code.keys() | recounted.keys(), key=lambda code: (int(code.split(":")[0]), code))
        return [
            (
                code,
                f"{self.option_label(labels.get(int(code.split(':')[0]), ''))}: {LINE_WORDS[code.split(':')[1]]}",
                official.by_code.get(code, 0),
                recounted.get(code, 0),
            )
            for code in codes
        ]

    def option_weights(self, *, poll: Poll, options: list[Option], totals: results.ShareTotals | None) -> list[int]:
        tabulated = self.tabulated(poll)
        if tabulated is None:
            return [option.weight for option in options]
        return [tabulated[0].get((option.pk, LineChoice.FOR), 0) for option in options]

    def decide(self, *, poll: Poll, totals: results.ShareTotals | None) -> results.ItemDecision:
        """The meeting's quorum; the outcome is the form's own (results_extra), which the quorum
        also decides: without it nobody is elected and no option wins."""
        return self.quorum(poll), None, []

    def quorum(self, poll: Poll) -> results.QuorumResult:
        # Read once per results: decide, leading and results_extra must agree on it.
        return kinds.read_once(poll, "quorum", lambda: self._quorum(poll))

    def _quorum(self, poll: Poll) -> results.QuorumResult:
        """Of the shares the item's ballots speak for (or the inspector's figures and broker
        non-votes), or the meeting's attendance when higher."""
        meeting = poll.meeting
        assert meeting is not None  # noqa: S101 - items belong to meetings
        outstanding = meeting.register.shares_outstanding
        # The meeting's attendance makes its quorum; the item's own figures count when higher
        # (an inspector's tabulation with broker non-votes).
        present = max(self._present(poll), meeting.shares_present)
        quorum = Threshold(
            Fraction(meeting.quorum_numerator, meeting.quorum_denominator), Comparator(meeting.quorum_comparator)
        )
        met = quorum.met_by(Fraction(present, outstanding)) if outstanding else False
        percent = percent_of(Fraction(present, outstanding)) if outstanding else percent_of(Fraction(0))
        return results.QuorumResult(present, outstanding, percent, str(quorum), met)

    def _present(self, poll: Poll) -> int:
        tabulated = self.tabulated(poll)
        if tabulated is None:
            return self.terms(poll).shares_voted
        lines, row = tabulated
        return self.tabulated_present(lines, self.terms(poll)) + row.broker_non_votes

    def tabulated_present(self, lines: Mapping[tuple[int, str], int], terms: ItemTerms) -> int:
        """The shares an inspector's figures speak for: an option item's are disjoint and add up."""
        return sum(lines.values())

    def certified_rules(self, poll: Poll) -> dict[str, Any]:
        terms = self.terms(poll)
        return super().certified_rules(poll) | {
            "form": self.form_name,
            "seats": terms.seats,
            "election_standard": terms.election_standard,
            "cumulative": terms.cumulative,
            "choice_threshold": poll.threshold_text if terms.has_threshold else None,
        }

    def options_check(self, *, labels: list[str], creating: bool) -> None:
        """In the admin, a new item's nominees or options are listed as a poll's are (its terms
        then default: one seat, majority voting); afterwards they are fixed (read-only there)."""
        if creating:
            self.item_labels(nominees=None, options=labels, title="")

    def create_problem(self, data: Mapping[str, Any]) -> dict[str, str]:
        if "meeting" not in data:
            return {"meeting": _("A shareholder item belongs to a meeting.")}
        return {}

    def create(self, *, data: Mapping[str, Any], common: Mapping[str, Any]) -> Poll:
        from meetings.ballot_services import annual_item_create

        fields = ("nominees", "options", "seats", "election_standard", "cumulative", "threshold", "comparator")
        return annual_item_create(
            meeting=data["meeting"], kind=self.kind, **{k: data[k] for k in fields if k in data}, **common
        )

    def tabulate(self, *, poll: Poll, actor: User, **figures: Any) -> None:
        from meetings.ballot_services import lines_tabulation_record

        if "lines" not in figures:
            raise InvalidPollData(_("This item is tabulated per nominee or option: give lines."))
        lines_tabulation_record(poll=poll, actor=actor, **figures)

    def cast(self, *, poll_id: int, actor: User, data: Mapping[str, Any]) -> CastResult:
        from meetings.ballot_services import item_lines_cast

        return item_lines_cast(poll_id=poll_id, actor=actor, data=data)

    def cast_option(self, *, poll_id: int, actor: User, option_id: int) -> CastResult | None:
        # A holder's `{"option": id}`: the form's own rules take it (an option item) or say
        # which keys it takes instead (an election): a 400, like any payload it does not take.
        return self.cast(poll_id=poll_id, actor=actor, data={"option": option_id})

    def check_share_ballot(self) -> None:
        """A proposal's choice or split of for/against/abstain is not how these items vote."""
        from polls.exceptions import InvalidVote

        raise InvalidVote(_("This item is voted with votes, splits, cumulative votes or an option, not a choice."))

    def options_ensure(self, poll: Poll) -> None:
        """An item made in the admin gets default terms (a one-seat majority election), a
        frequency item its four options, and each nominee its tally."""
        is_election = self.kind == PollKind.ELECTION
        ItemTerms.objects.get_or_create(
            poll=poll, defaults={"election_standard": ElectionStandard.MAJORITY if is_election else ""}
        )
        if self.kind == PollKind.FREQUENCY and not Option.objects.filter(poll_id=poll.pk).exists():
            Option.objects.bulk_create(
                Option(poll=poll, label=label, position=i, code="abstain" if label == "Abstain" else "")
                for i, label in enumerate(FREQUENCY_LABELS)
            )
        if is_election:
            missing = Option.objects.filter(poll_id=poll.pk, tally__isnull=True)
            NomineeTally.objects.bulk_create(NomineeTally(option=option) for option in missing)

    def leading(self, *, poll: Poll, options: list[Option], weights: list[int]) -> list[int]:
        return []


class ElectionItem(LineItem):
    kind = PollKind.ELECTION
    form_name = "election"
    extra_keys = ("form", "attendance", "election", "nominees")
    has_nominees = True

    def tabulated_present(self, lines: Mapping[tuple[int, str], int], terms: ItemTerms) -> int:
        """Every nominee is voted with the same shares: the largest nominee's figures, or the
        cumulative votes over the seats they were spread across."""
        if terms.cumulative:
            return -(-sum(lines.values()) // terms.seats)  # rounded up: 6,001 votes over 3 seats are 2,001 shares
        per_nominee: dict[int, int] = {}
        for (option, _choice), shares in lines.items():
            per_nominee[option] = per_nominee.get(option, 0) + shares
        return max(per_nominee.values(), default=0)

    results_template = "meetings/results/election.html"

    def item_labels(
        self, *, nominees: list[str] | None, options: list[str] | None, title: str
    ) -> tuple[list[str], dict[int, str]]:
        from polls.services import _clean_options

        if options and nominees:
            raise InvalidPollData(_("An election lists nominees, not options."))
        try:
            return _clean_options(nominees or options or [], title=title), {}
        except InvalidPollData:
            raise InvalidPollData(_("An election needs 2 to 20 nominees, each named once.")) from None

    def terms_check(self, *, seats: int, election_standard: str, cumulative: bool, nominees: int) -> None:
        if election_standard not in ElectionStandard.__members__.values():
            raise InvalidPollData(_("An election is decided by majority or plurality voting."))
        if not 1 <= seats <= min(MAX_SEATS, nominees):
            raise InvalidPollData(
                _("An election fills 1 to %(max)d seats (no more than its nominees).")
                % {"max": min(MAX_SEATS, nominees)}
            )
        if cumulative and election_standard != ElectionStandard.PLURALITY:
            raise InvalidPollData(_("Cumulative voting is for plurality elections only."))

    def results_extra(self, *, poll: Poll, options: list[Option], weights: list[int]) -> dict[str, Any]:
        terms = self.terms(poll)
        standard = ElectionStandard(terms.election_standard)
        tabulated = self.tabulated(poll)
        tallies = {t.pk: t for t in NomineeTally.objects.filter(option__poll_id=poll.pk)}
        figures = []
        for option, weight in zip(options, weights, strict=True):
            tally = tallies.get(option.pk)
            if tabulated is not None:
                lines = tabulated[0]
                against = lines.get((option.pk, LineChoice.AGAINST), 0) + lines.get((option.pk, LineChoice.WITHHOLD), 0)
                abstain = lines.get((option.pk, LineChoice.ABSTAIN), 0)
            else:
                against = tally.against_shares if tally else 0
                abstain = tally.abstain_shares if tally else 0
            figures.append(NomineeFigures(id=option.pk, for_=weight, against=against, abstain=abstain))
        outcomes = ballot_rules.election_results(
            figures, standard=standard, seats=terms.seats, quorum_met=self.quorum(poll).met
        )
        bnv = tabulated[1].broker_non_votes if tabulated is not None else 0
        majority = standard == ElectionStandard.MAJORITY
        return super().results_extra(poll=poll, options=options, weights=weights) | {
            "form": self.form_name,
            "election": {"standard": str(standard), "seats": terms.seats, "cumulative": terms.cumulative},
            "nominees": [
                {
                    "id": option.pk,
                    "name": option.label,
                    "for": str(figure.for_),
                    "against": str(figure.against) if majority else None,
                    "withheld": None if majority else str(figure.against),
                    "abstain": str(figure.abstain) if majority else None,
                    "broker_non_votes": str(bnv),
                    "percent": _text(outcome.percent),
                    "elected": outcome.elected,
                    "status": outcome.status,
                    "recommendation": tallies[option.pk].recommendation if option.pk in tallies else "none",
                }
                for option, figure, outcome in zip(options, figures, outcomes, strict=True)
            ],
        }


class OptionItem(LineItem):
    """Frequency and choice: the holder's shares go to one option (or are split over several);
    the option with most votes cast wins."""

    extra_keys = ("form", "attendance", "decision")
    results_template = "meetings/results/options.html"

    def _abstain(self, options: list[Option]) -> int | None:
        return next((option.pk for option in options if option.code == "abstain"), None)

    def _threshold(self, poll: Poll) -> Threshold | None:
        return None

    def _win(self, poll: Poll, options: list[Option], weights: list[int]) -> ballot_rules.OptionWin:
        votes = {option.pk: weight for option, weight in zip(options, weights, strict=True)}
        return ballot_rules.plurality_of_options(
            votes, abstain=self._abstain(options), threshold=self._threshold(poll), quorum_met=self.quorum(poll).met
        )

    def leading(self, *, poll: Poll, options: list[Option], weights: list[int]) -> list[int]:
        win = self._win(poll, options, weights)
        ids = [option.pk for option in options]
        return [ids.index(win.winner)] if win.winner is not None else [ids.index(pk) for pk in win.tied]

    def results_extra(self, *, poll: Poll, options: list[Option], weights: list[int]) -> dict[str, Any]:
        win = self._win(poll, options, weights)
        tabulated = self.tabulated(poll)
        return super().results_extra(poll=poll, options=options, weights=weights) | {
            "form": self.form_name,
            "decision": {
                "winner": win.winner,
                "percent": _text(win.percent),
                "threshold": _text(self._threshold(poll)),
                "threshold_met": win.threshold_met,
                "advisory": poll.advisory,
                # As a proposal's outcome says why it failed: the tie and no-vote cases stay "".
                "reason": "" if win.quorum_met else "no quorum",
                "broker_non_votes": str(tabulated[1].broker_non_votes if tabulated is not None else 0),
            },
        }


class FrequencyItem(OptionItem):
    kind = PollKind.FREQUENCY
    form_name = "frequency"
    always_advisory = True

    def item_labels(
        self, *, nominees: list[str] | None, options: list[str] | None, title: str
    ) -> tuple[list[str], dict[int, str]]:
        if options or nominees:
            raise InvalidPollData(_("A frequency item's options are 1 year, 2 years, 3 years and abstain."))
        return list(FREQUENCY_LABELS), {FREQUENCY_LABELS.index("Abstain"): "abstain"}

    def option_label(self, label: str) -> str:
        return str(FREQUENCY_WORDS.get(label, label))


class ChoiceItem(OptionItem):
    kind = PollKind.CHOICE
    form_name = "choice"
    takes_threshold = True

    def _threshold(self, poll: Poll) -> Threshold | None:
        if not self.terms(poll).has_threshold:
            return None
        return Threshold(
            Fraction(poll.threshold_numerator, poll.threshold_denominator), Comparator(poll.threshold_comparator)
        )
