"""A register snapshot against the trail. The register decides every holder's weight and who
may vote: a holder's shares raised by SQL before voting are carried into its ballots, whose
links then record the forged weight, so neither the ballots nor the running totals show it.
The import appends a `register_imported` link to the register's chain with the record date,
the shares outstanding and a digest of every holder line (account, name, e-mail, shares: the
columns the transfer agent's file gave, and the keyed digest of each holder's control number:
nothing in Quorum changes them afterwards, and a digest moved to another holder would let a
known number claim that holding); the live
rows must give the same. A register imported before the link existed is not compared."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from django.contrib.auth.models import User
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_append
from core.models import AuditEvent
from meetings.models import Holder, Meeting, RegisterSnapshot
from polls.models import Poll

ACTION = "register_imported"


def _stream(register_id: int) -> str:
    return f"register:{register_id}"


def holders_digest(register_id: int) -> tuple[int, str]:
    """The number of holder lines and a SHA-256 over them, in row order (the order they were
    imported, kept by a restore)."""
    digest = hashlib.sha256()
    count = 0
    rows = Holder.objects.filter(register_id=register_id).order_by("pk")
    columns = ("account", "name", "email", "shares", "control_digest")
    for account, name, email, shares, control in rows.values_list(*columns).iterator(10000):
        number = bytes(control).hex() if control is not None else ""
        digest.update(f"{account}\x1f{name}\x1f{email}\x1f{shares}\x1f{number}\x1e".encode())
        count += 1
    return count, digest.hexdigest()


def _fields(snapshot: RegisterSnapshot) -> dict[str, object]:
    count, digest = holders_digest(snapshot.pk)
    return {
        "record_date": snapshot.record_date.isoformat(),
        "shares_outstanding": snapshot.shares_outstanding,
        "holders": count,
        "holders_digest": digest,
    }


def register_record(*, snapshot: RegisterSnapshot, actor: User | None) -> None:
    """Put the imported register on its chain, in the import's transaction."""
    snapshot.refresh_from_db(fields=["record_date", "shares_outstanding"])
    audit_append(stream=_stream(snapshot.pk), action=ACTION, actor=actor, payload=_fields(snapshot))


_NAMES = {
    "record_date": gettext_lazy("record date"),
    "shares_outstanding": gettext_lazy("shares outstanding"),
    "holders": gettext_lazy("number of holders"),
    "holders_digest": gettext_lazy("holders' accounts, names, e-mail addresses, shares or control numbers"),
}


# What certification compares: the register's own row and the holdings' links, in a few indexed
# queries. The holders' digest is one pass over every holder (seconds at a million), so it is
# verify_audit's alone: certification is asked per item, and its cost must follow the ballots.
_CHEAP = ("record_date", "shares_outstanding")


def _differing(snapshot: RegisterSnapshot, recorded: dict[str, object], *, whole: bool) -> str | None:
    if whole:
        live = _fields(snapshot)
    else:
        live = {"record_date": snapshot.record_date.isoformat(), "shares_outstanding": snapshot.shares_outstanding}
    names = _NAMES if whole else _CHEAP
    differing = [str(_NAMES[name]) for name in names if name in recorded and recorded[name] != live[name]]
    return ", ".join(differing) or None


def _unbacked_link(register_id: int) -> tuple[int, str] | None:
    """The first holder linked to an account by neither its claim on the trail (the control
    number's `holding_claimed` link names the account) nor the same e-mail address (the opt-in
    linking at import and at sign-up): the link was set by SQL, and that account votes the
    holder's shares as its own."""
    linked = (
        Holder.objects.filter(register_id=register_id, user__isnull=False)
        .exclude(user__email__iexact=F("email"))
        .order_by("pk")
        .values_list("pk", "account", "user_id")
    )
    candidates = list(linked)
    if not candidates:
        return None
    claims = AuditEvent.objects.filter(
        stream__in=[f"holder:{pk}" for pk, _account, _user in candidates], action="holding_claimed"
    )
    claimed = {(stream, payload.get("user")) for stream, payload in claims.values_list("stream", "payload")}
    for pk, account, user_id in candidates:
        if (f"holder:{pk}", user_id) not in claimed:
            return pk, account
    return None


def _register_difference(snapshot: RegisterSnapshot, recorded: dict[str, object], *, whole: bool) -> str | None:
    """What differs in the register, in words, or None; without `whole`, not its holders' lines."""
    differing = _differing(snapshot, recorded, whole=whole)
    if differing is not None:
        return _("its %(fields)s differ from what the trail recorded at import: changed outside Quorum") % {
            "fields": differing
        }
    unbacked = _unbacked_link(snapshot.pk)
    if unbacked is not None:
        return _(
            "holder %(account)s (%(holder)d) is linked to an account by neither a claim on the trail nor its "
            "e-mail address: changed outside Quorum"
        ) % {"account": unbacked[1], "holder": unbacked[0]}
    return None


def _recorded(register_ids: list[int] | None) -> dict[int, dict[str, object]]:
    links = AuditEvent.objects.filter(action=ACTION, stream__startswith="register:")
    if register_ids is not None:
        links = links.filter(stream__in=[_stream(pk) for pk in register_ids])
    recorded: dict[int, dict[str, object]] = {}
    for stream, payload in links.order_by("seq").values_list("stream", "payload"):
        recorded[int(stream.partition(":")[2])] = payload
    return recorded


def register_problems() -> Iterator[tuple[str, str]]:
    """Every register that differs from its import's link, for verify_audit."""
    recorded = _recorded(None)
    for snapshot in RegisterSnapshot.objects.filter(pk__in=list(recorded)).order_by("pk"):
        problem = _register_difference(snapshot, recorded[snapshot.pk], whole=True)
        if problem is not None:
            yield _("register %(register)d") % {"register": snapshot.pk}, problem


def register_refusal(poll: Poll) -> str | None:
    """Why certification stops when the item's register differs from its import's link (its
    record date or shares outstanding) or a holding is linked to an account off the trail: its
    ballots' weights and voters came from it. A holder's line changed by SQL is verify_audit's
    to find (_CHEAP)."""
    if poll.meeting_id is None:
        return None
    register_id = Meeting.objects.filter(pk=poll.meeting_id).values_list("register_id", flat=True).first()
    if register_id is None:
        return None
    snapshot = RegisterSnapshot.objects.filter(pk=register_id).first()
    recorded = _recorded([register_id]).get(register_id)
    if recorded is None or snapshot is None:
        return None
    problem = _register_difference(snapshot, recorded, whole=False)
    if problem is None:
        return None
    return _(
        "Certification stopped: the meeting's register differs from what the audit trail recorded (%(problem)s), "
        "so the ballots' weights and voters cannot be trusted. Run verify_audit to see what differs."
    ) % {"problem": problem}


def register_check_register() -> None:
    from polls.trail_records import subject_check_register

    subject_check_register(every=register_problems, of_poll=register_refusal)
