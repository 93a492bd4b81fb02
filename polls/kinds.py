"""Ballot forms: what a kind of poll means to the engine. The engine (services, selectors,
results, certification, the audit check) asks the poll's form and never branches on the kind;
a form registers itself at start-up (`register`), so a new form is a new module. The public
poll is defined here; the shareholder item's form is the meetings app's (meetings/kinds.py)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from core.validators import outside_calendar, outside_calendar_message
from polls.exceptions import InvalidPollData, InvalidVote, NotEligible, PollNotFound
from polls.models import PollKind

if TYPE_CHECKING:
    from django import forms
    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models import QuerySet

    from polls.ballots import CastResult
    from polls.models import Ballot, Option, Poll
    from polls.results import ItemDecision, ShareTotals


T = TypeVar("T")


@dataclass(frozen=True)
class OfficialTotals:
    """An inspector's figures for a poll, which replace the ballots' totals when present."""

    by_code: dict[str, int]
    broker_non_votes: int
    source: str


ACTIVE_ACCOUNTS_CACHE_SECONDS = 60


class BallotForm:
    """The public poll: one account, one ballot, one option; every active account may vote."""

    kind: str = PollKind.PUBLIC
    # The API's names: `kind` (public or shareholder) and, for a meeting's items, `form`.
    api_kind: str = PollKind.PUBLIC
    form_name: str | None = None
    # Ballots weigh shares (the pages show shares beside the votes); otherwise one ballot, one vote.
    share_weighted = False
    # Its polls are listed among the public polls: the polls page, the home page's pending
    # ballots, the polls a proposal cites. A form that is not is listed elsewhere (an item on
    # its meeting's page).
    listed = True
    # A ballot names one option, cast on the poll's own page or with the API's `option`
    # (polls.ballots.ballot_cast and its one-statement first ballot); otherwise the poll's page
    # says where its ballot is cast.
    option_ballots = True
    # Whether a poll of this form may be secret (nobody sees who chose what).
    may_be_secret = True
    # The form gives its polls their options itself, and nobody edits them.
    fixed_options = False
    # Decided by a vote standard and a threshold (the item's rules), which may be edited
    # before it opens; otherwise the leading option wins and there is nothing to decide.
    decided_by_standard = False
    # An inspector's official totals may be entered for it once it closes.
    takes_tabulation = False
    # An option reaching a threshold may open a draft proposal (poll_escalation_set).
    escalates = True
    # The results page's part for this form (a template name), included in place of the
    # engine's option table; "" keeps the engine's own.
    results_template: str = ""

    def ballot_of(self, *, poll: Poll, user: User | AnonymousUser, holder_id: int | None) -> Ballot | None:
        from polls.models import Ballot

        return (
            Ballot.objects.filter(poll_id=poll.pk, voter_id=user.pk, holder__isnull=True)
            .select_related("option")
            .first()
        )

    def ballot_to_withdraw(
        self, *, poll: Poll, actor: User, holder_id: int | None, ballots: QuerySet[Ballot]
    ) -> Ballot | None:
        return ballots.filter(voter_id=actor.pk, holder__isnull=True).first()

    def withdraw_deltas(self, *, poll: Poll, ballot: Ballot) -> dict[int, tuple[int, int]]:
        assert ballot.option_id is not None  # noqa: S101 - public ballots always name their option
        return {ballot.option_id: (-1, -ballot.weight)}

    def recount(self, *, poll: Poll, ballots: QuerySet[Ballot], options: list[Option]) -> dict[int, tuple[int, int]]:
        """Each option's ballots and weight, counted again from the ballots (one aggregate query)."""
        return {
            row["option_id"]: (row["n"], row["w"] or 0)
            for row in ballots.values("option_id").annotate(n=Count("id"), w=Sum("weight")).order_by()
        }

    def eligible_voters(self, poll: Poll) -> int:
        # Every active account may vote in a public poll. Counting a million accounts on every
        # results read would make results O(accounts); turnout's denominator may lag a minute.
        count = cache.get_or_set(
            "quorum:active-accounts",
            lambda: get_user_model().objects.filter(is_active=True).count(),
            ACTIVE_ACCOUNTS_CACHE_SECONDS,
        )
        return int(count or 0)

    def official_totals(self, poll: Poll) -> OfficialTotals | None:
        return None

    def ballots_cast(self, poll: Poll, *, votes: int) -> int:
        """How many ballots are cast, given the options' votes: one option on each ballot."""
        return votes

    def after_withdraw(self, *, poll: Poll) -> None:
        """What the form keeps beside the options' totals, moved in a withdrawal's transaction."""

    def ballot_count_check(self, poll: Poll) -> tuple[int, int] | None:
        """(running, counted) when a count the form keeps beside the options' totals differs
        from the ballots; None when it agrees or the form keeps none."""
        return None

    def totals(self, *, poll: Poll, options: list[Option]) -> ShareTotals | None:
        """The totals a decision is made on, when the form decides by a standard."""
        return None

    def decide(self, *, poll: Poll, totals: ShareTotals | None) -> ItemDecision | None:
        """The quorum, the outcome and what every other standard would give, or None when the
        form decides nothing (the leading option wins)."""
        return None

    def option_label(self, label: str) -> str:
        """An option's label as a reader sees it."""
        return label

    # Keys a form adds to its results (results_extra), frozen with them at certification.
    extra_keys: tuple[str, ...] = ()

    def option_weights(self, *, poll: Poll, options: list[Option], totals: ShareTotals | None) -> list[int]:
        """Each option's weight in the results: the running totals, or official figures."""
        return [option.weight for option in options]

    def leading(self, *, poll: Poll, options: list[Option], weights: list[int]) -> list[int]:
        """The positions of the options that lead (one: the winner; several: a tie)."""
        from polls.arithmetic import leaders

        return leaders(weights)

    def results_extra(self, *, poll: Poll, options: list[Option], weights: list[int]) -> dict[str, Any]:
        """What the form's results add to the engine's (plain JSON, keys in `extra_keys`)."""
        return {}

    def interested(self, poll: Poll) -> list[Any]:
        """The holders marked interested in the item (its disinterested approval)."""
        raise InvalidPollData(_("Only a shareholder proposal has interested holders."))

    def interested_mark(self, *, poll: Poll, holder_id: int, reason: str, actor: User) -> Any:
        raise InvalidPollData(_("Only a shareholder proposal has interested holders."))

    def tabulation_lines(
        self, *, poll: Poll, official: OfficialTotals, counted: dict[int, int]
    ) -> list[tuple[str, str, int, int]]:
        """The inspector's figures beside the recount's, as (code, label, tabulated, counted):
        for, against and abstain by default. `counted` is each option's recounted weight."""
        from polls.models import Choice, Option

        codes = dict(Option.objects.filter(poll_id=poll.pk).values_list("code", "pk"))
        return [
            (code, str(Choice(code).label), official.by_code[code], counted.get(codes.get(code, 0), 0))
            for code in Choice.values
        ]

    def ballot_detail(self, ballot: Ballot) -> dict[str, Any]:
        """What the API's answer about a ballot adds beside the row's fields."""
        return {}

    def ballot_choices(self, ballots: Sequence[Ballot]) -> dict[int, str]:
        """What each of `ballots` (all of this form's polls) chose, in words, by ballot id, for
        a reader already allowed to see it. Asked once for a whole page of ballots: a form whose
        choices are rows of their own reads them in one query, not one a ballot."""
        return {ballot.pk: str(ballot.option) for ballot in ballots}

    def tally_problems(self, poll: Poll) -> list[str]:
        """Running totals the form keeps beside the options' that disagree with its ballots,
        and ballots that disagree with their audit links, in words (certification refuses them;
        verify_audit reports them)."""
        return []

    def trail_problems(self, poll: Poll) -> list[str]:
        """Ballots that the trail does not account for and that only a further pass over them
        finds, in words: verify_audit reports them; certification keeps to its one pass."""
        return []

    def certified_rules(self, poll: Poll) -> dict[str, Any]:
        return {}

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
        """What is wrong with a poll's terms, by field, in the order the services check them."""
        problems: dict[str, str] = {}
        if meeting is not None:
            problems["meeting"] = _("Only shareholder items belong to a meeting.")
        return problems | window_problems(opens_at=opens_at, closes_at=closes_at)

    def options_ensure(self, poll: Poll) -> None:
        """Give a poll made in the admin the options its form always has (none here)."""

    def options_check(self, *, labels: list[str], creating: bool) -> None:
        """Refuse (a DomainError) the options the admin lists for a poll: poll_create's check."""
        from polls import services

        services._clean_options(labels)

    def create_problem(self, data: Mapping[str, Any]) -> dict[str, str]:
        """The first thing wrong with an API payload creating a poll of this form, by field."""
        if "options" not in data:
            return {"options": _("A public poll needs 2 to 20 options.")}
        if "meeting" in data:
            return {"meeting": _("Only shareholder items belong to a meeting.")}
        if "nominees" in data:
            return {"nominees": _("Only an election lists nominees.")}
        return {}

    def draft_form(self, poll: Poll, data: Any = None) -> forms.Form:
        """The console's form for a draft of this form's poll; `poll_draft_update` saves it."""
        from polls.forms import PollDraftForm

        return PollDraftForm.for_poll(poll, data)

    def cast_option(self, *, poll_id: int, actor: User, option_id: int) -> CastResult | None:
        """A ballot of one option (`{"option": id}`) on a form whose ballots are not the public
        poll's but take that payload too (a holder's frequency vote): the form casts it. None
        lets the public path go on (and check_option_ballot refuse what it must)."""
        return None

    def check_option_ballot(self) -> None:
        """Refuse a ballot naming one option (`polls.ballots.ballot_cast`) if that is not how
        this form votes."""
        if not self.option_ballots:
            raise NotEligible()

    def check_share_ballot(self) -> None:
        """Refuse a holder's ballot of shares (the shareholder item's cast) if that is not how
        this form votes."""
        raise InvalidVote(_("This is a public poll; vote with an option, not a choice."))

    # Writes the form owns. The views, API and admin ask the poll's form, which calls its
    # services; a form that does not take a write refuses it as the service would.

    def create(self, *, data: Mapping[str, Any], common: Mapping[str, Any]) -> Poll:
        from polls import services

        poll = services.poll_create(options=data["options"], secret=data.get("secret", True), **common)
        if "escalation" in data:
            rule = data["escalation"]
            poll = services.poll_escalation_set(
                poll=poll, option_label=rule["option"], threshold=rule["threshold"], comparator=rule["comparator"]
            )
        return poll

    def rules_update(self, *, poll: Poll, actor: User | None, **rules: Any) -> Poll:
        raise InvalidPollData(_("Only shareholder items have a vote standard and threshold."))

    def tabulate(self, *, poll: Poll, actor: User, **figures: Any) -> None:
        raise InvalidPollData(_("Only shareholder items take an official tabulation."))

    def cast(self, *, poll_id: int, actor: User, data: Mapping[str, Any]) -> CastResult:
        from polls.ballots import ballot_cast as public_ballot_cast  # it asks the forms too

        if "option" not in data:
            raise InvalidVote(_("This is a public poll; vote with an option, not a choice."))
        return public_ballot_cast(poll_id=poll_id, actor=actor, option_id=data["option"])


def window_problems(*, opens_at: datetime.datetime | None, closes_at: datetime.datetime | None) -> dict[str, str]:
    """Every poll opens and closes within the site's calendar, and closes after it opens."""
    problems = {
        name: outside_calendar_message()
        for name, moment in (("opens_at", opens_at), ("closes_at", closes_at))
        if moment is not None and outside_calendar(moment)
    }
    if problems:
        return problems
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        return {"closes_at": _("The poll must close after it opens.")}
    return {}


_FORMS: dict[str, BallotForm] = {}


# One results computation asks a form for several figures of one poll (weights, quorum,
# outcome), and each read the same rows again: an election's results made nine queries.
# Inside `one_reading(poll)` a form reads each of them once (`read_once`); outside it, every
# read is fresh, so a caller that writes between two reads never sees the first.
_READS = "_form_reads"


@contextmanager
def one_reading(poll: Poll) -> Iterator[None]:
    if _READS in poll.__dict__:  # nested: the outer reading's memo holds
        yield
        return
    poll.__dict__[_READS] = {}
    try:
        yield
    finally:
        del poll.__dict__[_READS]


def read_once(poll: Poll, key: str, read: Callable[[], T]) -> T:
    """`read()`, or what it returned for `key` earlier in this `one_reading(poll)`."""
    memo: dict[str, Any] | None = poll.__dict__.get(_READS)
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return cast(T, memo[key])


def remember(poll: Poll, key: str, value: object) -> None:
    """Keep `value`, read along with something else, for read_once(poll, key) in this
    one_reading(poll), when one is open."""
    memo: dict[str, Any] | None = poll.__dict__.get(_READS)
    if memo is not None:
        memo[key] = value


def register(form: BallotForm) -> None:
    _FORMS[form.kind] = form


def form_for(kind: str) -> BallotForm:
    try:
        return _FORMS[kind]
    except KeyError:
        raise LookupError(f"No ballot form is registered for polls of kind {kind!r}.") from None


def form_of(poll: Poll) -> BallotForm:
    return form_for(poll.kind)


def kinds_where(test: Callable[[BallotForm], bool]) -> list[str]:
    """The kinds whose form passes `test`, for a query: `kind__in=kinds_where(...)`."""
    return sorted(kind for kind, form in _FORMS.items() if test(form))


# The API's `kind`: a meeting item, whatever its form, is "shareholder" (its `form` says which).
API_KINDS = [(PollKind.PUBLIC.value, PollKind.PUBLIC.label), (PollKind.SHAREHOLDER.value, PollKind.SHAREHOLDER.label)]


def kinds_named(api_kind: str) -> list[str]:
    """The kinds the API calls `api_kind` (public, or shareholder: every meeting item's form)."""
    return kinds_where(lambda form: form.api_kind == api_kind)


def kind_for(*, api_kind: str, form_name: str | None) -> str:
    """The kind of poll the API's `kind` and `form` name; a public poll has no form."""
    for kind, form in sorted(_FORMS.items()):
        if form.api_kind == api_kind and (form.form_name is None or form.form_name == form_name):
            return kind
    raise LookupError(f"No ballot form is registered for {api_kind!r} polls of form {form_name!r}.")


def ballot_cast(*, poll_id: int, actor: User, data: Mapping[str, Any]) -> CastResult:
    """Cast a ballot whose payload is not the public poll's `{"option": id}`: the poll's form
    reads it. An unknown poll or a draft is a 404, as on every ballot path."""
    from polls.models import Poll, PollStatus

    kind = Poll.objects.exclude(status=PollStatus.DRAFT).filter(pk=poll_id).values_list("kind", flat=True).first()
    if kind is None:
        raise PollNotFound()
    return form_for(kind).cast(poll_id=poll_id, actor=actor, data=data)


register(BallotForm())
