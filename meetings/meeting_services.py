"""Writes to meetings and to the rules of their items. Once voting on a meeting has begun, the
terms it runs under are frozen (DESIGN, Trust: "Certification is final"): the meeting's register
and quorum once any item has opened, an item's standard, threshold, comparator, advisory flag and
options once that item has opened. Every path (API, console, admin) edits through here."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.audit import audit_append
from core.validators import outside_calendar, outside_calendar_message
from meetings.models import Meeting, RegisterSnapshot
from meetings.services import item_options_ensure
from polls import kinds
from polls.exceptions import IllegalTransition, InvalidPollData
from polls.kinds import window_problems
from polls.models import Comparator, Poll, PollKind, PollStatus, ResultsVisibility, VoteStandard
from polls.permissions import poll_manager_required
from polls.services import EDITABLE_STATUSES, _parse_fraction, _refuse_bidi_overrides, _refuse_control_characters

MEETING_FIELDS = ("title", "date", "register", "quorum", "quorum_comparator", "proxy_cutoff")
# What decides every item's result: fixed once the first item opens.
MEETING_FROZEN = ("register", "quorum", "quorum_comparator")
ITEM_RULES = ("standard", "threshold", "comparator", "advisory")


def _field_label(name: str) -> str:
    labels = {
        "register": pgettext("meeting field", "register"),
        "quorum": pgettext("meeting field", "quorum"),
        "quorum_comparator": pgettext("meeting field", "quorum comparator"),
        "standard": pgettext("item field", "standard"),
        "threshold": pgettext("item field", "threshold"),
        "comparator": pgettext("item field", "comparator"),
        "advisory": pgettext("item field", "advisory flag"),
        "options": pgettext("item field", "options"),
    }
    return str(labels.get(name, name))


def _frozen_refusal(fields: list[str]) -> IllegalTransition:
    return IllegalTransition(
        _("Voting has begun; these can no longer change: %(fields)s.")
        % {"fields": ", ".join(map(_field_label, fields))}
    )


def opened_items(*, meeting: Meeting, now: datetime.datetime | None = None) -> Q:
    """The condition for "this item has opened", whatever the sweep has done: the twin of
    `Poll.effective_status` past scheduled."""
    now = now or timezone.now()
    started = Q(status__in=[PollStatus.OPEN, PollStatus.CLOSED, PollStatus.CERTIFIED])
    return Q(meeting=meeting) & (started | Q(status=PollStatus.SCHEDULED, opens_at__lte=now))


def meeting_frozen(*, meeting: Meeting, now: datetime.datetime | None = None) -> bool:
    return Poll.objects.filter(opened_items(meeting=meeting, now=now)).exists()


@transaction.atomic
def meeting_create(
    *,
    title: str,
    date: datetime.date,
    register: RegisterSnapshot,
    actor: User | None,
    quorum: str = "1/2",
    quorum_comparator: str = Comparator.GT,
    proxy_cutoff: datetime.datetime | None = None,
) -> Meeting:
    poll_manager_required(actor)
    _refuse_control_characters(title=title)
    _meeting_date_check(date)
    fraction = _parse_fraction(quorum, quorum_comparator, what=pgettext("value being checked", "quorum"))
    meeting = Meeting(
        title=title,
        date=date,
        register=register,
        quorum_numerator=fraction.fraction.numerator,
        quorum_denominator=fraction.fraction.denominator,
        quorum_comparator=str(fraction.comparator),
        proxy_cutoff=proxy_cutoff,
        created_by=actor,
    )
    _proxy_cutoff_check(meeting)
    meeting.save()
    return meeting


def _meeting_date_check(date: object) -> None:
    """A meeting's day is a date within the site's calendar: the day before a meeting dated
    0001-01-01 (its default proxy cut-off) overflowed on every page and list showing it."""
    if not isinstance(date, datetime.date):
        raise InvalidPollData(_("The meeting date is not a date."))
    if outside_calendar(date):
        raise InvalidPollData(outside_calendar_message())


def _proxy_cutoff_check(meeting: Meeting) -> None:
    """A cut-off set by hand is a moment no later than the end of the meeting day (the site's)."""
    cutoff = meeting.proxy_cutoff
    if cutoff is None:
        return
    if not isinstance(cutoff, datetime.datetime) or timezone.is_naive(cutoff):
        raise InvalidPollData(_("The proxy cut-off is not a date and time with its time zone."))
    if outside_calendar(cutoff):
        raise InvalidPollData(outside_calendar_message())
    site = timezone.get_default_timezone()
    day_after = timezone.make_aware(
        datetime.datetime.combine(meeting.date + datetime.timedelta(days=1), datetime.time()), site
    )
    if cutoff >= day_after:
        raise InvalidPollData(_("The proxy cut-off must be no later than the end of the meeting day."))


def _meeting_values(meeting: Meeting) -> dict[str, Any]:
    """As the trail records them: plain JSON."""
    return {
        "title": meeting.title,
        "date": meeting.date.isoformat(),
        "register": meeting.register_id,
        "quorum": meeting.quorum_text,
        "quorum_comparator": meeting.quorum_comparator,
        "proxy_cutoff": meeting.proxy_cutoff.isoformat() if meeting.proxy_cutoff is not None else None,
    }


def _meeting_changes_apply(meeting: Meeting, changes: dict[str, object]) -> None:
    """Set the changed fields on the (locked) meeting, each checked as meeting_create would."""
    if "title" in changes:
        title = str(changes["title"]).strip()
        _refuse_control_characters(title=title)
        if not title:
            raise InvalidPollData(_("A meeting needs a title."))
        meeting.title = title
    if "date" in changes:
        _meeting_date_check(changes["date"])
        meeting.date = changes["date"]  # type: ignore[assignment] # checked just above
    if "register" in changes:
        register = changes["register"]
        if not isinstance(register, RegisterSnapshot):
            raise InvalidPollData(_("Choose a register of record."))
        meeting.register = register
    if "quorum" in changes or "quorum_comparator" in changes:
        text = str(changes.get("quorum", meeting.quorum_text))
        comparator = str(changes.get("quorum_comparator", meeting.quorum_comparator))
        fraction = _parse_fraction(text, comparator, what=pgettext("value being checked", "quorum"))
        meeting.quorum_numerator = fraction.fraction.numerator
        meeting.quorum_denominator = fraction.fraction.denominator
        meeting.quorum_comparator = str(fraction.comparator)
    if "proxy_cutoff" in changes:
        meeting.proxy_cutoff = changes["proxy_cutoff"]  # type: ignore[assignment] # checked next
    if "proxy_cutoff" in changes or "date" in changes:
        _proxy_cutoff_check(meeting)


@transaction.atomic
def meeting_update(*, meeting: Meeting, actor: User | None, **changes: object) -> Meeting:
    """Edit a meeting: its title and date at any time; its register and quorum only until the
    first item opens. Every change is on the meeting's trail with its old and new value."""
    poll_manager_required(actor)
    unknown = set(changes) - set(MEETING_FIELDS)
    if unknown:
        raise InvalidPollData(_("These fields cannot be edited: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    # The meeting's row lock orders edits, and the items' row locks make an opening (poll_open,
    # the sweep, and every ballot's key-share lock) wait for this check, or this check for it.
    # A trigger could hold the rule in the database, but "opened" also depends on the clock
    # (a scheduled item past its opening time), which a check in one place under these locks
    # judges the same way the pages do.
    meeting = Meeting.objects.select_for_update().select_related("register").get(pk=meeting.pk)
    list(Poll.objects.select_for_update().filter(meeting=meeting).order_by("pk").values_list("pk", flat=True))
    before, cutoff_before = _meeting_values(meeting), meeting.proxy_cutoff_at
    _meeting_changes_apply(meeting, changes)
    after = _meeting_values(meeting)
    changed = {
        name: {"from": before[name], "to": after[name]} for name in MEETING_FIELDS if before[name] != after[name]
    }
    frozen = [name for name in MEETING_FROZEN if name in changed]
    if frozen and meeting_frozen(meeting=meeting):
        raise _frozen_refusal(frozen)
    cutoff = meeting.proxy_cutoff_at
    if cutoff != cutoff_before and cutoff < timezone.now() and meeting_frozen(meeting=meeting):
        # Proxy ballots already cast would then lie after the cut-off they were cast under.
        raise IllegalTransition(_("Voting has begun: the proxy cut-off cannot move into the past."))
    if not changed:
        return meeting
    meeting.save()
    audit_append(stream=f"meeting:{meeting.pk}", action="meeting_updated", actor=actor, payload={"changes": changed})
    return meeting


def item_terms_problems(
    *,
    meeting: Meeting | None,
    opens_at: datetime.datetime | None,
    closes_at: datetime.datetime | None,
    standard: str = "",
    threshold: str = "1/2",
    comparator: str = Comparator.GT,
) -> dict[str, str]:
    """What is wrong with a shareholder item's terms, by field, in the order the services check
    them (empty when nothing is): it belongs to a meeting and is decided by a known standard and
    a threshold p/q with 0 < p/q <= 1; every poll closes after it opens. item_create refuses the
    first problem; the admin's form shows each on its field (the item's ballot form's
    terms_problems, as a public poll's are the public poll's). The one statement of these rules."""
    problems: dict[str, str] = {}
    if meeting is None:
        problems["meeting"] = _("A shareholder item belongs to a meeting.")
    if not standard:
        problems["standard"] = _("Choose the vote standard that decides the item.")
    elif standard not in VoteStandard.values:
        problems["standard"] = _("Unknown vote standard %(standard)s.") % {"standard": repr(standard)}
    try:
        _parse_fraction(threshold, comparator, what=pgettext("value being checked", "threshold"))
    except InvalidPollData as error:
        problems["threshold"] = str(error.message)
    return problems | window_problems(opens_at=opens_at, closes_at=closes_at)


@transaction.atomic
def item_create(
    *,
    meeting: Meeting,
    title: str,
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    actor: User | None,
    standard: str = VoteStandard.VOTES_CAST,
    threshold: str = "1/2",
    comparator: str = Comparator.GT,
    advisory: bool = False,
    description: str = "",
    allow_change: bool = True,
    results_visibility: str = ResultsVisibility.AFTER_CLOSE,
) -> Poll:
    """A shareholder item on the meeting's ballot, with its for / against / abstain options."""
    poll_manager_required(actor)
    _refuse_control_characters(title=title)
    _refuse_bidi_overrides(description=description)
    problems = item_terms_problems(
        meeting=meeting,
        opens_at=opens_at,
        closes_at=closes_at,
        standard=standard,
        threshold=threshold,
        comparator=comparator,
    )
    if problems:
        raise InvalidPollData(next(iter(problems.values())))
    fraction = _parse_fraction(threshold, comparator, what=pgettext("value being checked", "threshold"))
    poll = Poll.objects.create(
        title=title,
        description=description,
        kind=PollKind.SHAREHOLDER,
        meeting=meeting,
        standard=standard,
        threshold_numerator=fraction.fraction.numerator,
        threshold_denominator=fraction.fraction.denominator,
        threshold_comparator=str(fraction.comparator),
        advisory=advisory,
        opens_at=opens_at,
        closes_at=closes_at,
        allow_change=allow_change,
        results_visibility=results_visibility,
        created_by=actor,
    )
    item_options_ensure(poll=poll)
    return poll


def _item_rules(poll: Poll) -> dict[str, Any]:
    return {
        "standard": poll.standard,
        "threshold": poll.threshold_text,
        "comparator": poll.threshold_comparator,
        "advisory": poll.advisory,
    }


@transaction.atomic
def item_rules_update(*, poll: Poll, actor: User | None, **changes: object) -> Poll:
    """Change what decides an item (standard, threshold, comparator, advisory) before it opens;
    on the item's trail with old and new values. Refused (409) once it has opened."""
    poll_manager_required(actor)
    unknown = set(changes) - set(ITEM_RULES)
    if unknown:
        raise InvalidPollData(_("These fields cannot be edited: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    poll = Poll.objects.select_for_update().get(pk=poll.pk)
    if not kinds.form_of(poll).decided_by_standard:
        raise InvalidPollData(_("Only shareholder items have a vote standard and threshold."))
    before = _item_rules(poll)
    if "standard" in changes:
        if changes["standard"] not in VoteStandard.values:
            raise InvalidPollData(_("Unknown vote standard %(standard)s.") % {"standard": repr(changes["standard"])})
        poll.standard = str(changes["standard"])
    if "threshold" in changes or "comparator" in changes:
        text = str(changes.get("threshold", poll.threshold_text))
        comparator = str(changes.get("comparator", poll.threshold_comparator))
        fraction = _parse_fraction(text, comparator, what=pgettext("value being checked", "threshold"))
        poll.threshold_numerator = fraction.fraction.numerator
        poll.threshold_denominator = fraction.fraction.denominator
        poll.threshold_comparator = str(fraction.comparator)
    if "advisory" in changes:
        poll.advisory = bool(changes["advisory"])
    after = _item_rules(poll)
    changed = {name: {"from": before[name], "to": after[name]} for name in ITEM_RULES if before[name] != after[name]}
    if not changed:
        return poll
    if poll.effective_status() not in EDITABLE_STATUSES:
        raise _frozen_refusal(list(changed))
    poll.save(
        update_fields=["standard", "threshold_numerator", "threshold_denominator", "threshold_comparator", "advisory"]
    )
    audit_append(
        stream=f"poll:{poll.pk}",
        action="item_rules_updated",
        actor=actor,
        payload={"status": poll.status, "changes": changed},
    )
    return poll


def item_options_frozen(*, poll: Poll) -> bool:
    """Options (a public poll's list; an item's for / against / abstain) change only before
    voting; after that a ballot's option must keep meaning what it meant."""
    return poll.pk is not None and poll.effective_status() not in EDITABLE_STATUSES


def options_refusal() -> IllegalTransition:
    return _frozen_refusal(["options"])
