"""Attendance: who is present at a meeting, and the shares that makes present.

A holder is present once they or their proxy cast a ballot on any of the meeting's items
(recorded in the ballot's transaction), check in on the meeting page or through the API, or
the secretary records them in person. Presence is not undone: a holder who withdraws a ballot
was still represented at the meeting. The shares present make the meeting's quorum and the
base of present-and-entitled on every item (polls.standards.Totals.attending)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from fractions import Fraction

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_append
from core.roles import is_secretary
from meetings import proxy_checks
from meetings.attendance_models import Attendance, AttendanceSource
from meetings.models import Holder, Meeting, ProxyAppointment
from polls import refusals
from polls.exceptions import NotEligible, PollNotOpen
from polls.models import PollStatus
from polls.standards import Comparator, Threshold


def attendance_mark(*, meeting_id: int, holder: Holder, source: str, actor: User | None) -> bool:
    """Record the holder present, once (the unique key decides, in one statement); True when
    this made them present, and their shares then join the meeting's shares present."""
    table = Attendance._meta.db_table
    sql = (
        f"INSERT INTO {table} (meeting_id, holder_id, shares, source, recorded_by_id, at) "  # noqa: S608 - the model's table
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (meeting_id, holder_id) DO NOTHING RETURNING id"
    )
    params: list[int | str | datetime.datetime | None] = [
        meeting_id,
        holder.pk,
        holder.shares,
        str(source),
        actor.pk if actor else None,
        timezone.now(),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        arrived = cursor.fetchone() is not None
    if arrived and holder.shares:
        Meeting.objects.filter(pk=meeting_id).update(shares_present=F("shares_present") + holder.shares)
    return arrived


def voting_over(meeting: Meeting, now: datetime.datetime | None = None) -> bool:
    """The meeting has published items and every one of them has closed (or been certified)."""
    items = [item for item in meeting.items.all() if item.status != PollStatus.DRAFT]
    done = (PollStatus.CLOSED, PollStatus.CERTIFIED)
    return bool(items) and all(item.effective_status(now) in done for item in items)


def _represents(*, actor: User, meeting: Meeting, holder: Holder) -> bool:
    if holder.user_id == actor.pk:
        return True
    return ProxyAppointment.objects.filter(
        meeting_id=meeting.pk, holder_id=holder.pk, proxy_id=actor.pk, revoked_at__isnull=True
    ).exists()


@transaction.atomic
def attendance_check_in(*, meeting: Meeting, holder_id: int, actor: User) -> Attendance:
    """The holder (or their proxy) checks in; the secretary records a holder present in person.
    Anyone else, and a holder not on the meeting's register, get the same refusal."""
    holder = Holder.objects.filter(pk=holder_id, register_id=meeting.register_id).first()
    if holder is None:
        raise NotEligible(refusals.HOLDER_REFUSED)
    if _represents(actor=actor, meeting=meeting, holder=holder):
        source = AttendanceSource.CHECK_IN
        if holder.user_id != actor.pk:
            proxy_checks.cutoff_check(meeting)  # a proxy acts for the holder only until the cut-off
    elif is_secretary(actor):
        source = AttendanceSource.IN_PERSON
    else:
        raise NotEligible(refusals.HOLDER_REFUSED)
    if voting_over(meeting):
        # Shares present are every item's quorum and the base of present_and_entitled: a holder
        # made present once the items have closed would change results already decided.
        raise PollNotOpen(_("Every item of this meeting has closed: attendance can no longer change."))
    if attendance_mark(meeting_id=meeting.pk, holder=holder, source=source, actor=actor):
        audit_append(
            stream=f"meeting:{meeting.pk}",
            action="attendance_recorded",
            actor=actor,
            payload={"holder": holder.pk, "shares": holder.shares, "source": str(source)},
        )
    return Attendance.objects.get(meeting_id=meeting.pk, holder_id=holder.pk)


@dataclass(frozen=True)
class AttendanceSummary:
    shares_present: int
    shares_outstanding: int
    quorum_met: bool


def attendance_summary(meeting: Meeting) -> AttendanceSummary:
    """Live attendance from the meeting's counter: O(1) in holders and ballots."""
    outstanding = meeting.register.shares_outstanding
    quorum = Threshold(
        Fraction(meeting.quorum_numerator, meeting.quorum_denominator), Comparator(meeting.quorum_comparator)
    )
    met = bool(outstanding) and quorum.met_by(Fraction(meeting.shares_present, outstanding))
    return AttendanceSummary(meeting.shares_present, outstanding, met)


def attendance_visible_to(*, meeting: Meeting, user: User | AnonymousUser) -> list[Attendance]:
    """The secretary sees every holder present; a holder or proxy, those they represent."""
    present = Attendance.objects.filter(meeting=meeting).select_related("holder").order_by("holder__account")
    if is_secretary(user):
        return list(present)
    if not user.is_authenticated:
        return []
    proxied = set(
        ProxyAppointment.objects.filter(meeting=meeting, proxy_id=user.pk, revoked_at__isnull=True).values_list(
            "holder_id", flat=True
        )
    )
    return [row for row in present if row.holder.user_id == user.pk or row.holder_id in proxied]


def attendance_problem(meeting: Meeting) -> str | None:
    """The counter against its rows, and each row against what made the holder present, in
    words, for certification and verify_audit: a row added by SQL, with the counter raised to
    match, would otherwise make up a quorum."""
    counted = Attendance.objects.filter(meeting=meeting).aggregate(s=Sum("shares"))["s"] or 0
    if counted != meeting.shares_present:
        return _("meeting %(meeting)d shares present: running %(running)d, attendance %(counted)d") % {
            "meeting": meeting.pk,
            "running": meeting.shares_present,
            "counted": counted,
        }
    unbacked = _unbacked_attendance(meeting)
    if unbacked is not None:
        return _("meeting %(meeting)d attendance of holder %(holder)s: no ballot or check-in on the trail") % {
            "meeting": meeting.pk,
            "holder": unbacked,
        }
    return None


# A row's shares are its holder's; a row present by ballot needs that holder's ballot on one of
# the meeting's items (itself checked against its chain), or, for a ballot since withdrawn, its
# chain (`ballot:<item>:holder:<holder>`, whose head verify_audit checks). Set-based: a hash
# anti-join, then index probes for the few without a ballot (1M rows: about 1.5 s on PostgreSQL,
# where a probe per row and item took 10 s).
_SHARES_WRONG = """
SELECT min(a.holder_id) FROM {attendance} a JOIN {holder} h ON h.id = a.holder_id
WHERE a.meeting_id = %s AND a.shares <> h.shares
"""
_BALLOT_UNBACKED = """
WITH without_ballot AS MATERIALIZED (
    SELECT a.holder_id FROM {attendance} a
    WHERE a.meeting_id = %s AND a.source = %s AND NOT EXISTS (
        SELECT 1 FROM {ballot} b JOIN {poll} p ON p.id = b.poll_id
        WHERE p.meeting_id = a.meeting_id AND b.holder_id = a.holder_id))
SELECT min(w.holder_id) FROM without_ballot w WHERE NOT EXISTS (
    SELECT 1 FROM {poll} p JOIN {head} hd
      ON hd.stream = 'ballot:' || CAST(p.id AS TEXT) || ':holder:' || CAST(w.holder_id AS TEXT)
    WHERE p.meeting_id = %s)
"""


def _unbacked_attendance(meeting: Meeting) -> int | None:
    """The first holder whose attendance nothing on the trail accounts for, if any."""
    from core.models import AuditEvent, AuditHead
    from polls.models import Ballot, Poll

    tables = {
        "attendance": Attendance._meta.db_table,
        "holder": Holder._meta.db_table,
        "ballot": Ballot._meta.db_table,
        "poll": Poll._meta.db_table,
        "head": AuditHead._meta.db_table,
    }
    with connection.cursor() as cursor:
        checks: list[tuple[str, list[int | str]]] = [
            (_SHARES_WRONG, [meeting.pk]),
            (_BALLOT_UNBACKED, [meeting.pk, str(AttendanceSource.BALLOT), meeting.pk]),
        ]
        for sql, params in checks:
            cursor.execute(sql.format(**tables), params)
            row = cursor.fetchone()
            if row is not None and row[0] is not None:
                return int(row[0])
    recorded = AuditEvent.objects.filter(stream=f"meeting:{meeting.pk}", action="attendance_recorded")
    checked_in = {payload.get("holder") for payload in recorded.values_list("payload", flat=True)}
    rows = Attendance.objects.filter(meeting=meeting).exclude(source=AttendanceSource.BALLOT)
    return next(
        (pk for pk in rows.values_list("holder_id", flat=True).order_by("holder_id") if pk not in checked_in), None
    )
