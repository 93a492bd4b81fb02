"""Ballot forms: what a kind of poll means to the engine. The engine (services, selectors,
results, certification, the audit check) asks the poll's form and never branches on the kind;
a form registers itself at start-up (`register`), so a new form is a new module. The public
poll is defined here; the shareholder item's form is the meetings app's (meetings/kinds.py)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from polls.exceptions import InvalidPollData, InvalidVote, PollNotFound
from polls.models import PollKind

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models import QuerySet

    from polls.ballots import CastResult
    from polls.models import Ballot, Option, Poll
    from polls.standards import Threshold


@dataclass(frozen=True)
class OfficialTotals:
    """An inspector's figures for a poll, which replace the ballots' totals when present."""

    by_code: dict[str, int]
    broker_non_votes: int
    source: str


@dataclass(frozen=True)
class ShareRules:
    """What a share-weighted decision needs beside the totals."""

    outstanding: int
    quorum: Threshold


ACTIVE_ACCOUNTS_CACHE_SECONDS = 60


class BallotForm:
    """The public poll: one account, one ballot, one option; every active account may vote."""

    kind: str = PollKind.PUBLIC
    # Share-weighted forms keep `Poll.ballot_count` (a split ballot counts once) and decide by
    # a standard; the others count ballots per option.
    share_weighted = False

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

    def share_rules(self, poll: Poll) -> ShareRules | None:
        return None

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
        return public_ballot_cast(poll_id=poll_id, voter=actor, option_id=data["option"])


def window_problems(*, opens_at: datetime.datetime | None, closes_at: datetime.datetime | None) -> dict[str, str]:
    """Every poll closes after it opens."""
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        return {"closes_at": _("The poll must close after it opens.")}
    return {}


_FORMS: dict[str, BallotForm] = {}


def register(form: BallotForm) -> None:
    _FORMS[form.kind] = form


def form_for(kind: str) -> BallotForm:
    try:
        return _FORMS[kind]
    except KeyError:
        raise LookupError(f"No ballot form is registered for polls of kind {kind!r}.") from None


def form_of(poll: Poll) -> BallotForm:
    return form_for(poll.kind)


def ballot_cast(*, poll_id: int, actor: User, data: Mapping[str, Any]) -> CastResult:
    """Cast a ballot whose payload is not the public poll's `{"option": id}`: the poll's form
    reads it. An unknown poll or a draft is a 404, as on every ballot path."""
    from polls.models import Poll, PollStatus

    kind = Poll.objects.exclude(status=PollStatus.DRAFT).filter(pk=poll_id).values_list("kind", flat=True).first()
    if kind is None:
        raise PollNotFound()
    return form_for(kind).cast(poll_id=poll_id, actor=actor, data=data)


register(BallotForm())
