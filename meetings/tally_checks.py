"""What certification and verify_audit check of an election, frequency or choice item beyond
the options' own counters: the nominees' tallies against a recount of the ballots' lines, and
each ballot's lines against its audit link. In words, in the reader's language: the secretary
reads them when certification refuses."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Subquery, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.models import AuditEvent, AuditHead
from meetings.ballot_models import BallotLine, NomineeTally
from meetings.ballot_rules import LineChoice
from polls.models import Ballot, Poll

# A nominee's running against (or abstain) total that its ballots' lines do not add up to.
NOMINEE_DIFFERS = gettext_noop(
    "%(nominee)s, %(column)s: running %(ballots)d ballots / %(shares)d shares, recount %(n)d / %(w)d"
)


def nominee_problems(poll: Poll) -> list[str]:
    """Each nominee's running against (or withheld) and abstain totals against its ballots' lines."""
    counted: dict[tuple[int, str], tuple[int, int]] = {}
    rows = (
        BallotLine.objects.filter(ballot__poll_id=poll.pk)
        .exclude(choice=LineChoice.FOR)
        .values("option_id", "choice")
        .annotate(n=Count("id"), w=Sum("shares"))
        .order_by()
    )
    for row in rows:
        column = "abstain" if row["choice"] == LineChoice.ABSTAIN else "against"
        n, w = counted.get((row["option_id"], column), (0, 0))
        counted[(row["option_id"], column)] = (n + row["n"], w + (row["w"] or 0))
    problems = []
    columns = {"against": _("against or withheld"), "abstain": _("abstentions")}
    for tally in NomineeTally.objects.filter(option__poll_id=poll.pk).select_related("option").order_by("pk"):
        for column, word in columns.items():
            running = (getattr(tally, f"{column}_ballots"), getattr(tally, f"{column}_shares"))
            recounted = counted.get((tally.pk, column), (0, 0))
            if running != recounted:  # in the certifier's language, the nominee by name
                values = {"nominee": tally.option.label, "column": word, "ballots": running[0]}
                values.update(shares=running[1], n=recounted[0], w=recounted[1])
                problems.append(_(NOMINEE_DIFFERS) % values)
    return problems


def line_link_problems(poll: Poll) -> list[str]:
    """Each ballot's lines against the lines its chain's latest link records."""
    prefix = f"ballot:{poll.pk}:holder:"
    latest = AuditEvent.objects.filter(
        stream__startswith=prefix,
        seq=Subquery(AuditHead.objects.filter(stream=OuterRef("stream")).values("seq")[:1]),
    ).values_list("stream", "payload")
    recorded = {stream: payload.get("lines") for stream, payload in latest}
    stored: dict[int, list[list[object]]] = {}
    for ballot_id, option, choice, shares in (
        BallotLine.objects.filter(ballot__poll_id=poll.pk)
        .order_by("ballot_id", "option_id", "choice")
        .values_list("ballot_id", "option_id", "choice", "shares")
    ):
        stored.setdefault(ballot_id, []).append([option, choice, shares])
    problems = []
    for ballot_id, holder_id in Ballot.objects.filter(poll_id=poll.pk).values_list("pk", "holder_id"):
        if recorded.get(f"{prefix}{holder_id}") != stored.get(ballot_id, []):
            problems.append(
                _("ballot %(ballot)d: its lines differ from its chain's latest link") % {"ballot": ballot_id}
            )
    return problems
