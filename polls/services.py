"""Every write to polls goes through here: the pages, the API, the admin, commands and tasks."""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from core.audit import ROOT_WORDS, audit_append, current_key, link_prepare
from core.models import AuditHead, Profile
from core.validators import control_character_fields, control_characters_message
from polls import kinds, refusals, secrecy
from polls.exceptions import (
    ChangeNotAllowed,
    IllegalTransition,
    InvalidOption,
    InvalidPollData,
    NoBallot,
    NotEligible,
    PollNotFound,
    PollNotOpen,
)
from polls.models import (
    Ballot,
    Choice,
    Option,
    Poll,
    PollKind,
    PollStatus,
    RecordedPoll,
    RecordedSnapshot,
    ResultsVisibility,
)
from polls.option_labels import option_label_clean, option_label_duplicates, options_not_distinct
from polls.signals import poll_closed
from polls.standards import Threshold

MIN_OPTIONS = 2
MAX_OPTIONS = 20
MAX_OPTION_LABEL: int = Option._meta.get_field("label").max_length or 0  # the column decides

logger = logging.getLogger("quorum.polls")


def _refuse_control_characters(**values: str | Sequence[str]) -> None:
    """Single-line values, for the callers that bypass forms and serializers."""
    fields = control_character_fields(**values)
    if fields:
        raise InvalidPollData(control_characters_message(fields))


def _clean_options(options: Sequence[str], **single_line: str) -> list[str]:
    """A public poll's option labels, cleaned and checked; `single_line` values (a new title) are
    checked for control characters with them, so one refusal names every offending field."""
    labels = [option_label_clean(label) for label in options]
    _refuse_control_characters(**single_line, options=labels)
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        raise InvalidPollData(
            _("A poll needs between %(min)d and %(max)d options.") % {"min": MIN_OPTIONS, "max": MAX_OPTIONS}
        )
    if any(not label for label in labels) or option_label_duplicates(labels):
        raise InvalidPollData(options_not_distinct(labels))
    if any(len(label) > MAX_OPTION_LABEL for label in labels):
        raise InvalidPollData(_("An option may be at most %(max)d characters long.") % {"max": MAX_OPTION_LABEL})
    return labels


def _status_word(status: str) -> str:
    """A poll's status in a sentence: "closed" in English (the stored value), "chiusa" in Italian."""
    return str(PollStatus(status).label).lower()


def grouped_number(number: int) -> str:
    """A whole number with the reader's thousands separator: 1,060,000,000 or 1.060.000.000.
    With no language active (translations deactivated) it stays 1,060,000,000."""
    if get_language() is None:
        return f"{number:,}"
    return number_format(number, force_grouping=True)


@transaction.atomic
def poll_create(
    *,
    title: str,
    options: Sequence[str],
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    created_by: User | None,
    description: str = "",
    allow_change: bool = True,
    results_visibility: str = ResultsVisibility.LIVE,
    secret: bool = True,
) -> Poll:
    """A public poll, secret unless asked otherwise; shareholder items are made with
    `item_create`, on a meeting."""
    labels = _clean_options(options, title=title)
    if closes_at <= opens_at:
        raise InvalidPollData(_("The poll must close after it opens."))
    poll = Poll.objects.create(
        title=title,
        description=description,
        kind=PollKind.PUBLIC,
        opens_at=opens_at,
        closes_at=closes_at,
        allow_change=allow_change,
        results_visibility=results_visibility,
        secret=secret,
        created_by=created_by,
    )
    Option.objects.bulk_create(Option(poll=poll, label=label, position=i) for i, label in enumerate(labels))
    return poll


def _audit_poll(
    poll: Poll, action: str, actor: User | None, *, at: datetime.datetime | None = None, **payload: object
) -> None:
    audit_append(
        stream=f"poll:{poll.pk}", action=action, actor=actor, at=at, payload={"status": poll.status, **payload}
    )


def _locked_poll(poll_id: int) -> Poll:
    try:
        return Poll.objects.select_for_update().get(pk=poll_id)
    except Poll.DoesNotExist:
        raise PollNotFound() from None


@transaction.atomic
def poll_schedule(*, poll: Poll, actor: User | None = None) -> Poll:
    """Publish a draft: it opens by itself at `opens_at` (the sweep, or the next read)."""
    poll = _locked_poll(poll.pk)
    if poll.status != PollStatus.DRAFT:
        raise IllegalTransition(
            _("Only a draft can be scheduled; this poll is %(status)s.") % {"status": poll.get_status_display()}
        )
    if poll.closes_at <= timezone.now():
        raise IllegalTransition(_("The closing time has already passed."))
    poll.status = PollStatus.SCHEDULED
    poll.save(update_fields=["status", "updated_at"])
    _audit_poll(poll, "poll_scheduled", actor)
    return poll_open_if_due(poll=poll, actor=actor)


@transaction.atomic
def poll_open(*, poll: Poll, now: datetime.datetime | None = None, actor: User | None = None) -> Poll:
    """Open now. A poll scheduled for later opens early; one whose closing time passed cannot."""
    now = now or timezone.now()
    poll = _locked_poll(poll.pk)
    if poll.status not in (PollStatus.DRAFT, PollStatus.SCHEDULED):
        raise IllegalTransition(
            _("Only a draft or scheduled poll can be opened; this one is %(status)s.")
            % {"status": _status_word(poll.status)}
        )
    if poll.closes_at <= now:
        raise IllegalTransition(_("The closing time has already passed; move it before opening."))
    poll.status = PollStatus.OPEN
    poll.opens_at = min(poll.opens_at, now)
    poll.save(update_fields=["status", "opens_at", "updated_at"])
    _audit_poll(poll, "poll_opened", actor, at=now)
    return poll


@transaction.atomic
def poll_close(*, poll: Poll, now: datetime.datetime | None = None, actor: User | None = None) -> Poll:
    """Close now (or record that the closing time has come). Ballots in flight finish first:
    the row lock waits for them, since each ballot holds a key-share lock on its poll. The
    closing time is read after the lock, so every accepted ballot was cast before it."""
    poll = _locked_poll(poll.pk)
    now = now or timezone.now()
    if poll.status not in (PollStatus.OPEN, PollStatus.SCHEDULED):
        raise IllegalTransition(
            _("Only an open poll can be closed; this one is %(status)s.") % {"status": _status_word(poll.status)}
        )
    poll.status = PollStatus.CLOSED
    poll.closes_at = min(poll.closes_at, now)
    if poll.opens_at >= poll.closes_at:
        poll.opens_at = poll.closes_at - datetime.timedelta(microseconds=1)
    poll.save(update_fields=["status", "opens_at", "closes_at", "updated_at"])
    _audit_poll(poll, "poll_closed", actor, at=now)
    poll_closed.send(sender=Poll, poll_id=poll.pk)
    return poll


@dataclass(frozen=True)
class SweepReport:
    opened: int
    closed: int


def polls_sweep(*, now: datetime.datetime | None = None) -> SweepReport:
    """Bring stored statuses in line with the clock. Each poll moves in its own transaction
    and under its own lock, so a second sweep running at the same time changes nothing."""
    now = now or timezone.now()
    opened = closed = 0
    due_to_open = Poll.objects.filter(status=PollStatus.SCHEDULED, opens_at__lte=now, closes_at__gt=now)
    for poll_id in due_to_open.values_list("pk", flat=True):
        with transaction.atomic():
            poll = _locked_poll(poll_id)
            if poll.status == PollStatus.SCHEDULED and poll.opens_at <= now < poll.closes_at:
                poll.status = PollStatus.OPEN
                poll.save(update_fields=["status", "updated_at"])
                _audit_poll(poll, "poll_opened", None, at=now)
                opened += 1
    due_to_close = Poll.objects.filter(
        status__in=[PollStatus.OPEN, PollStatus.SCHEDULED], closes_at__lte=now
    ).values_list("pk", flat=True)
    for poll_id in due_to_close:
        with transaction.atomic():
            poll = _locked_poll(poll_id)
            if poll.status in (PollStatus.OPEN, PollStatus.SCHEDULED) and poll.closes_at <= now:
                poll.status = PollStatus.CLOSED
                poll.save(update_fields=["status", "updated_at"])
                _audit_poll(poll, "poll_closed", None, at=now)
                poll_closed.send(sender=Poll, poll_id=poll.pk)
                closed += 1
    return SweepReport(opened=opened, closed=closed)


def _poll_for_ballot(poll_id: int) -> Poll:
    """Read the poll under a lock that lets ballots run side by side but makes `poll_close`
    (FOR UPDATE) wait for them, and them wait for it: no ballot lands after a close."""
    if connection.vendor == "postgresql":
        sql = f"SELECT * FROM {Poll._meta.db_table} WHERE id = %s FOR KEY SHARE"  # noqa: S608
        poll = next(iter(Poll.objects.raw(sql, [poll_id])), None)
    else:
        # SQLite serialises writers (IMMEDIATE transactions), which gives the same guarantee.
        poll = Poll.objects.filter(pk=poll_id).first()
    if poll is None:
        raise PollNotFound()
    return poll


def _check_open(poll: Poll, now: datetime.datetime) -> None:
    status = poll.effective_status(now)
    if status != PollStatus.OPEN:
        raise PollNotOpen(
            _("This poll is %(status)s; ballots are accepted only while it is open.") % {"status": _status_word(status)}
        )


def _apply_deltas(deltas: dict[int, tuple[int, int]]) -> None:
    """Move running totals by (votes, weight) per option, in the ballot's own transaction.
    Rows are locked in primary-key order so two voters swapping options cannot deadlock."""
    for option_id in sorted(deltas):
        votes, weight = deltas[option_id]
        if votes or weight:
            Option.objects.filter(pk=option_id).update(votes=F("votes") + votes, weight=F("weight") + weight)


def _move_totals(*, add_to: int | None, take_from: int | None, weight: int) -> None:
    deltas: dict[int, tuple[int, int]] = {}
    if take_from is not None:
        deltas[take_from] = (-1, -weight)
    if add_to is not None:
        previous = deltas.get(add_to, (0, 0))
        deltas[add_to] = (previous[0] + 1, previous[1] + weight)
    _apply_deltas(deltas)


def _ballot_stream(poll: Poll, ballot: Ballot) -> str:
    # One chain per holder's (or voter's) ballot: voters never wait on each other's chains.
    if ballot.holder_id is not None:
        return f"ballot:{poll.pk}:holder:{ballot.holder_id}"
    return f"ballot:{poll.pk}:voter:{ballot.voter_id}"


def _audit_ballot(poll: Poll, ballot: Ballot, actor: User, action: str) -> str:
    """Append the ballot's link; its hash, from which the voter's receipt code derives."""
    payload: dict[str, object]
    if ballot.holder_id is None:
        assert ballot.option_id is not None  # noqa: S101 - public ballots always name their option
        payload = secrecy.public_ballot_payload(
            poll_id=poll.pk, option_id=ballot.option_id, weight=ballot.weight, secret=poll.secret, salt=ballot.salt
        )
    else:
        payload = {"poll": poll.pk, "option": ballot.option_id, "weight": ballot.weight}
        payload.update(
            holder=ballot.holder_id,
            shares_for=ballot.shares_for,
            shares_against=ballot.shares_against,
            shares_abstain=ballot.shares_abstain,
        )
    return audit_append(stream=_ballot_stream(poll, ballot), action=action, actor=actor, payload=payload).hash


@dataclass(frozen=True)
class Created:
    ballot: Ballot


def _insert_or_lock_ballot(insert: Callable[[], Ballot], mine: QuerySet[Ballot]) -> Created | Ballot:
    """Insert a first ballot, or lock the one already there. The unique constraint decides,
    not a prior SELECT. A concurrent first ballot makes the insert fail; if that one then rolls
    back there is nothing to lock, and the second attempt inserts."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return Created(insert())
        except IntegrityError:
            existing = mine.select_for_update().first()
            if existing is not None:
                return existing
    raise ChangeNotAllowed(_("Your ballot could not be recorded; please try again."))


@dataclass(frozen=True)
class CastResult:
    ballot: Ballot
    created: bool
    changed: bool
    # The hash of the ballot's latest audit link: the receipt code is its prefix (polls/receipts.py).
    link_hash: str


def ballot_cast(*, poll_id: int, voter: User, option_id: int, now: datetime.datetime | None = None) -> CastResult:
    """Record `voter`'s choice. The unique constraint, not a prior SELECT, decides whether this
    is a first ballot; the running totals and the audit link move in the same transaction.

    On PostgreSQL a first ballot, the common case, is one statement; anything else (a change,
    a refusal to explain, a voter whose audit chain already exists) takes the general path."""
    now = now or timezone.now()
    if not voter.is_authenticated or not voter.is_active:
        raise NotEligible(_("Log in to vote."))
    if connection.vendor == "postgresql":
        first = _first_ballot_in_one_statement(poll_id=poll_id, voter=voter, option_id=option_id, now=now)
        if first is not None:
            return first
    return _ballot_cast_general(poll_id=poll_id, voter=voter, option_id=option_id, now=now)


# One statement, so one round trip and no explicit transaction (a single statement is atomic
# on its own): the poll is read under the same key-share lock as the general path (so a close
# waits for it), the option must belong to that poll, the unique index decides whether this is
# a first ballot, and the counter, the audit chain's first link, its head and its share of the
# root (folded into a shard no one else holds; polls/audit.py) are written only if the ballot
# was. With every root shard busy the link gets no place (NULL), the statement fails and the
# general path waits for one. A voter whose chain already has links (they withdrew before) is
# left to the general path, which appends. The poll conditions mirror Poll.effective_status.
FIRST_BALLOT_SQL = """
WITH poll AS (
    SELECT id, secret FROM polls_poll
    WHERE id = %(poll)s AND kind = 'public' AND status IN ('open', 'scheduled')
      AND opens_at <= %(now)s AND closes_at > %(now)s
    FOR KEY SHARE
), chosen AS (
    SELECT o.id, poll.secret FROM polls_option o JOIN poll ON o.poll_id = poll.id
    WHERE o.id = %(option)s AND NOT EXISTS (SELECT 1 FROM core_audithead WHERE stream = %(stream)s)
), ballot AS (
    INSERT INTO polls_ballot (poll_id, voter_id, option_id, weight, salt, cast_at, updated_at)
    SELECT %(poll)s, %(voter)s, chosen.id, 1, CASE WHEN chosen.secret THEN %(salt)s ELSE '' END, %(now)s, %(now)s
    FROM chosen
    ON CONFLICT (poll_id, voter_id) WHERE holder_id IS NULL DO NOTHING
    RETURNING id, salt
), counter AS (
    UPDATE polls_option SET votes = votes + 1, weight = weight + 1
    WHERE id = %(option)s AND EXISTS (SELECT 1 FROM ballot)
), link_content AS (
    SELECT v.* FROM ballot JOIN (VALUES
        (false, %(payload)s::jsonb, %(hash)s, %(c0)s::bigint, %(c1)s::bigint, %(c2)s::bigint, %(c3)s::bigint),
        (true, %(secret_payload)s::jsonb, %(secret_hash)s, %(s0)s::bigint, %(s1)s::bigint, %(s2)s::bigint,
            %(s3)s::bigint)
    ) AS v (secret, payload, hash, c0, c1, c2, c3) ON v.secret = (ballot.salt <> '')
), root AS (
    UPDATE core_auditroot r SET n = r.n + 1, a0 = r.a0 # l.c0, a1 = r.a1 # l.c1, a2 = r.a2 # l.c2, a3 = r.a3 # l.c3
    FROM link_content l
    WHERE r.shard = (SELECT shard FROM core_auditroot ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING r.shard, r.n
), link AS (
    INSERT INTO core_auditevent
        (stream, seq, action, actor_id, actor_name, at, payload, prev_hash, key_id, hash, root_shard, root_n)
    SELECT %(stream)s, 1, 'ballot_cast', %(voter)s, %(name)s, %(now)s, l.payload, '', %(key_id)s, l.hash,
        root.shard, root.n
    FROM link_content l LEFT JOIN root ON true
), head AS (
    INSERT INTO core_audithead (stream, seq, hash) SELECT %(stream)s, 1, hash FROM link_content
)
SELECT id, salt FROM ballot
"""


def _first_ballot_in_one_statement(
    *, poll_id: int, voter: User, option_id: int, now: datetime.datetime
) -> CastResult | None:
    stream = f"ballot:{poll_id}:voter:{voter.pk}"
    # Whether the poll is secret is read by the statement itself; both links are prepared.
    salt = secrecy.new_salt()
    payload = secrecy.public_ballot_payload(poll_id=poll_id, option_id=option_id, weight=1, secret=False, salt="")
    secret_payload = secrecy.public_ballot_payload(
        poll_id=poll_id, option_id=option_id, weight=1, secret=True, salt=salt
    )
    link, secret_link = (
        link_prepare(
            stream=stream,
            seq=1,
            action="ballot_cast",
            actor_id=voter.pk,
            actor_name=voter.get_username(),
            at=now,
            payload=content,
            prev_hash="",
        )
        for content in (payload, secret_payload)
    )
    params: dict[str, Any] = {
        "poll": poll_id,
        "option": option_id,
        "voter": voter.pk,
        "now": now,
        "stream": stream,
        "name": voter.get_username(),
        "payload": json.dumps(payload),
        "hash": link.hash,
        "key_id": current_key()[0],
        "salt": salt,
        "secret_payload": json.dumps(secret_payload),
        "secret_hash": secret_link.hash,
        **{f"c{i}": link.share[i] for i in range(ROOT_WORDS)},
        **{f"s{i}": secret_link.share[i] for i in range(ROOT_WORDS)},
    }

    def run() -> tuple[int, str] | None:
        with connection.cursor() as cursor:
            cursor.execute(FIRST_BALLOT_SQL, params)
            row = cursor.fetchone()
        return (row[0], row[1]) if row else None

    try:
        if connection.in_atomic_block:
            with transaction.atomic():  # a savepoint, so a refusal leaves the caller's transaction usable
                inserted = run()
        else:
            inserted = run()
    except IntegrityError:
        return None  # e.g. a link raced into the chain: the general path sorts it out
    if inserted is None:
        return None
    ballot = Ballot(
        pk=inserted[0],
        poll_id=poll_id,
        voter=voter,
        option_id=option_id,
        weight=1,
        salt=inserted[1],
        cast_at=now,
        updated_at=now,
    )
    # The statement chose the secret link when it stored a salt: that link's hash is the receipt.
    link_hash = secret_link.hash if inserted[1] else link.hash
    return CastResult(ballot=ballot, created=True, changed=False, link_hash=link_hash)


@transaction.atomic
def _ballot_cast_general(*, poll_id: int, voter: User, option_id: int, now: datetime.datetime) -> CastResult:
    poll = _poll_for_ballot(poll_id)
    if poll.status == PollStatus.DRAFT:
        raise PollNotFound()  # drafts are not public: voters cannot tell them from nothing
    if poll.kind != PollKind.PUBLIC:
        raise NotEligible(_("This poll is a shareholder vote; use the meeting ballot."))
    _check_open(poll, now)
    option = Option.objects.filter(pk=option_id, poll_id=poll.pk).only("pk").first()
    if option is None:
        raise InvalidOption()
    existing = _insert_or_lock_ballot(
        lambda: Ballot.objects.create(
            poll_id=poll.pk, voter=voter, option_id=option.pk, weight=1, salt=secrecy.new_salt() if poll.secret else ""
        ),
        Ballot.objects.filter(poll_id=poll.pk, voter_id=voter.pk, holder__isnull=True),
    )
    if isinstance(existing, Created):
        _move_totals(add_to=option.pk, take_from=None, weight=1)
        link_hash = _audit_ballot(poll, existing.ballot, voter, "ballot_cast")
        return CastResult(ballot=existing.ballot, created=True, changed=False, link_hash=link_hash)
    ballot = existing
    if not poll.allow_change:
        raise ChangeNotAllowed()
    if ballot.option_id == option.pk:
        # Nothing is appended: the receipt is the one the chain's last link already gave.
        head = AuditHead.objects.filter(stream=_ballot_stream(poll, ballot)).values_list("hash", flat=True).first()
        return CastResult(ballot=ballot, created=False, changed=False, link_hash=head or "")
    previous = ballot.option_id
    ballot.option_id = option.pk
    if poll.secret:
        # A fresh key, so this link's commitment cannot be matched with the previous one's.
        ballot.salt = secrecy.new_salt()
    ballot.save(update_fields=["option", "salt", "updated_at"])
    _move_totals(add_to=option.pk, take_from=previous, weight=ballot.weight)
    link_hash = _audit_ballot(poll, ballot, voter, "ballot_changed")
    return CastResult(ballot=ballot, created=False, changed=True, link_hash=link_hash)


@transaction.atomic
def ballot_withdraw(
    *, poll_id: int, voter: User, holder_id: int | None = None, now: datetime.datetime | None = None
) -> None:
    """Take a ballot back while the poll is open and allows changes; on a shareholder item,
    the holder's ballot (cast by the holder or its proxy)."""
    now = now or timezone.now()
    poll = _poll_for_ballot(poll_id)
    if poll.status == PollStatus.DRAFT:
        raise PollNotFound()
    _check_open(poll, now)
    if not poll.allow_change:
        raise ChangeNotAllowed(_("This poll does not allow withdrawing a ballot."))
    form = kinds.form_of(poll)
    ballots = Ballot.objects.select_for_update().filter(poll_id=poll.pk)
    ballot = form.ballot_to_withdraw(poll=poll, actor=voter, holder_id=holder_id, ballots=ballots)
    if ballot is None:
        raise NoBallot()
    deltas = form.withdraw_deltas(poll=poll, ballot=ballot)
    _audit_ballot(poll, ballot, voter, "ballot_withdrawn")
    ballot.delete()
    _apply_deltas(deltas)
    if form.share_weighted:
        Poll.objects.filter(pk=poll.pk).update(ballot_count=F("ballot_count") - 1)


EDITABLE_STATUSES = (PollStatus.DRAFT, PollStatus.SCHEDULED)


@transaction.atomic
def poll_update(*, poll: Poll, actor: User | None = None, **changes: object) -> Poll:
    """Edit the question or the window before voting starts; once ballots can exist, the
    terms they were cast under stay fixed. Moving a scheduled poll's opening to now or
    earlier opens it, through `poll_open`."""
    allowed = {"title", "description", "opens_at", "closes_at", "allow_change", "results_visibility", "secret"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidPollData(_("These fields cannot be edited: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    if isinstance(changes.get("title"), str):
        _refuse_control_characters(title=str(changes["title"]))
    poll = _locked_poll(poll.pk)
    if poll.effective_status() not in EDITABLE_STATUSES:
        raise IllegalTransition(_("A poll can be edited only before it opens."))
    for field, value in changes.items():
        setattr(poll, field, value)
    if poll.closes_at <= poll.opens_at:
        raise InvalidPollData(_("The poll must close after it opens."))
    if poll.secret and poll.is_item:
        raise InvalidPollData(refusals.ITEM_NOT_SECRET)
    poll.save(update_fields=[*changes, "updated_at"])
    return poll_open_if_due(poll=poll, actor=actor)


def poll_open_if_due(*, poll: Poll, actor: User | None = None) -> Poll:
    """A scheduled poll whose opening time has come is open for ballots (`effective_status`):
    whichever edit brought that about, the opening goes through `poll_open`, so the trail
    has its `poll_opened` event and who caused it before any ballot arrives."""
    now = timezone.now()
    if poll.status == PollStatus.SCHEDULED and poll.opens_at <= now < poll.closes_at:
        return poll_open(poll=poll, now=now, actor=actor)
    return poll


# --- Shareholder meetings: registers, items, proxies, ballots, tabulations -------------------

CHOICE_LABELS: dict[str, str] = {Choice.FOR: "For", Choice.AGAINST: "Against", Choice.ABSTAIN: "Abstain"}


def _parse_fraction(text: str, comparator: str, *, what: str) -> Threshold:
    """`what` names the value, translated: "quorum", "threshold" or "escalation threshold"."""
    try:
        return Threshold.parse(text, comparator)
    except ValueError as error:
        # The reason comes from polls.standards, which is plain Python and stays in English.
        raise InvalidPollData(
            _("The %(what)s %(text)s is not valid: %(error)s") % {"what": what, "text": repr(text), "error": error}
        ) from None


# --- Polls held elsewhere ------------------------------------------------------------------


@transaction.atomic
def recorded_poll_create(
    *, platform: str, url: str, author: str, question: str, options: Sequence[str], created_by: User | None
) -> RecordedPoll:
    labels = [label.strip() for label in options]
    _refuse_control_characters(platform=platform, author=author, question=question, options=labels)
    if len(labels) < MIN_OPTIONS or any(not label for label in labels) or option_label_duplicates(labels):
        raise InvalidPollData(_("A recorded poll needs at least two distinct, non-empty options."))
    return RecordedPoll.objects.create(
        platform=platform, url=url, author=author, question=question, options=labels, created_by=created_by
    )


@transaction.atomic
def recorded_snapshot_add(
    *,
    recorded_poll: RecordedPoll,
    taken_at: datetime.datetime,
    total_votes: int,
    percentages: Mapping[str, Decimal],
    note: str = "",
) -> RecordedSnapshot:
    """What the platform showed at `taken_at`. Percentages are as the platform rounded them,
    so they are kept exactly as given, not recomputed."""
    unknown = set(percentages) - set(recorded_poll.options)
    if unknown:
        raise InvalidPollData(_("Not options of this poll: %(labels)s.") % {"labels": ", ".join(sorted(unknown))})
    if any(not Decimal(0) <= value <= Decimal(100) for value in percentages.values()):
        raise InvalidPollData(_("Percentages must lie between 0 and 100."))
    if total_votes < 0:
        raise InvalidPollData(_("The total of votes must not be negative."))
    if RecordedSnapshot.objects.filter(recorded_poll=recorded_poll, taken_at=taken_at).exists():
        raise IllegalTransition(_("A snapshot at that moment is already recorded."))
    return RecordedSnapshot.objects.create(
        recorded_poll=recorded_poll,
        taken_at=taken_at,
        total_votes=total_votes,
        percentages={label: str(value) for label, value in percentages.items()},
        note=note,
    )


@transaction.atomic
def poll_escalation_set(*, poll: Poll, option_label: str, threshold: str = "2/3", comparator: str = ">=") -> Poll:
    """At close, an option at or above `threshold` of the votes opens a draft proposal."""
    poll = _locked_poll(poll.pk)
    if poll.kind != PollKind.PUBLIC:
        raise InvalidPollData(_("Escalation rules belong to public polls."))
    option = Option.objects.filter(poll_id=poll.pk, label=option_label).first()
    if option is None:
        raise InvalidPollData(_("The poll has no option %(label)s.") % {"label": repr(option_label)})
    fraction = _parse_fraction(threshold, comparator, what=pgettext("value being checked", "escalation threshold"))
    poll.escalation_option = option
    poll.escalation_numerator = fraction.fraction.numerator
    poll.escalation_denominator = fraction.fraction.denominator
    poll.escalation_comparator = str(fraction.comparator)
    poll.save(
        update_fields=["escalation_option", "escalation_numerator", "escalation_denominator", "escalation_comparator"]
    )
    return poll


def polls_reconcile() -> list[int]:
    """Recount every poll not yet certified and report those whose running totals differ from
    their ballots. Read-only: the secretary sees the difference again when certifying, which
    refuses until it is resolved."""
    from polls.certification import poll_recount  # it builds on this module

    mismatched = []
    for poll in Poll.objects.exclude(status__in=[PollStatus.DRAFT, PollStatus.CERTIFIED]):
        lines = [line for line in poll_recount(poll=poll) if not line.matches]
        if lines:
            mismatched.append(poll.pk)
            logger.error(
                "poll %s: running totals differ from the recount: %s",
                poll.pk,
                "; ".join(f"{line.label} {line.running_votes}/{line.counted_votes}" for line in lines),
            )
    return mismatched


@transaction.atomic
def profile_language_set(*, user: User, language: str) -> None:
    """Remember the reader's language for what reaches them outside the browser (e-mails)."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidPollData(_("Unknown language %(language)s.") % {"language": repr(language)})
    Profile.objects.update_or_create(user=user, defaults={"language": language})
