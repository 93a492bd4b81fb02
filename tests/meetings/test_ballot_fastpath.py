"""The fast first ballot of lines (meetings/ballot_fastpath.py: two statements, one transaction)
and the general path (meetings.ballot_services._item_lines_cast_general) on the same cases,
each in a meeting of its own with the same holders. Where the statement takes a ballot it leaves what the general path
leaves: the ballot row, its lines, every running total (options, nominee tallies, shares voted,
ballot count, the meeting's shares present and attendance), the audit link (payload, place in
the chain and the root, receipt) and a recount and certification check that agree. Where it does
not, it writes nothing, and the ballot takes the general path (a refusal the same as the general
path's). PostgreSQL only: the statement is its SQL."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from core.models import AuditEvent, AuditHead, AuditRoot
from meetings.attendance import attendance_check_in
from meetings.attendance_models import Attendance
from meetings.ballot_fastpath import first_lines_ballot
from meetings.ballot_models import BallotLine, ItemTerms, NomineeTally
from meetings.ballot_services import _item_lines_cast_general, item_lines_cast
from meetings.models import Holder, Meeting
from meetings.services import proxy_appoint
from polls import certification, kinds, receipts
from polls.ballots import CastResult, ballot_withdraw
from polls.exceptions import InvalidVote, NotEligible, PollError, PollNotOpen
from polls.models import Ballot, Option, Poll, PollStatus
from tests.factories import make_annual_item, make_meeting, make_register, make_user

pytestmark = [pytest.mark.usefixtures("fast_ballot_on_postgres"), pytest.mark.postgres, pytest.mark.django_db]

HOLDINGS: list[tuple[str, str, str, int | str]] = [
    ("H-ALICE", "Alice Minority", "alice@example.com", 30),
    ("H-BOB", "Bob Majority", "bob@example.com", 70),
    ("H-CEDE", "Cede & Co", "cede@example.com", 1_000),
    ("H-DORA", "Dora Absent", "dora@example.com", 400),
    ("H-ZERO", "Zero Fund", "zero@example.com", 0),
]
NOMINEES = [f"Nominee {n}" for n in range(1, 11)]


@pytest.fixture
def users() -> dict[str, User]:
    names = ("alice", "bob", "cede", "dora", "zero", "proxy")
    return {name: make_user(username=name, email=f"{name}@example.com") for name in names}


@dataclass(frozen=True)
class World:
    """A meeting of its own with the same holders: one for each path."""

    meeting: Meeting
    holders: dict[str, Holder]
    users: dict[str, User]


def world(users: dict[str, User]) -> World:
    register = make_register(HOLDINGS, outstanding=5_000)
    holders = {h.account.removeprefix("H-").lower(): h for h in register.holders.all()}
    # Ahead, so a proxy may still vote (their cut-off is the day before).
    meeting = make_meeting(register, date=timezone.now().date() + datetime.timedelta(days=30))
    return World(meeting, holders, users)


@dataclass(frozen=True)
class Attempt:
    poll: Poll
    actor: User
    data: dict[str, Any]


def ids(poll: Poll) -> dict[str, str]:
    return {option.label: str(option.pk) for option in poll.options.order_by("position")}


def majority_votes(w: World) -> Attempt:
    poll = make_annual_item(w.meeting, "election", nominees=["X", "Y", "Z"], election_standard="majority")
    x, y, z = ids(poll).values()
    return Attempt(poll, w.users["alice"], {"votes": {x: "for", y: "against", z: "abstain"}})


def ten_nominees(w: World) -> Attempt:
    """The bench's ballot: a ten-nominee majority election, every nominee voted."""
    poll = make_annual_item(w.meeting, "election", nominees=NOMINEES, election_standard="majority")
    choices = ("for", "against", "abstain")
    votes = {option: choices[n % 3] for n, option in enumerate(ids(poll).values())}
    return Attempt(poll, w.users["bob"], {"votes": votes})


def majority_splits(w: World) -> Attempt:
    poll = make_annual_item(w.meeting, "election", nominees=["X", "Y"], election_standard="majority")
    x, y = ids(poll).values()
    split = {x: {"for": "700", "against": "200", "abstain": "100"}, y: {"for": "50"}}
    return Attempt(poll, w.users["cede"], {"splits": split})


def plurality_withhold(w: World) -> Attempt:
    poll = make_annual_item(w.meeting, "election", nominees=["X", "Y", "Z"], election_standard="plurality", seats=2)
    x, y, _z = ids(poll).values()
    return Attempt(poll, w.users["bob"], {"votes": {x: "for", y: "withhold"}})


def cumulative(w: World) -> Attempt:
    poll = make_annual_item(
        w.meeting, "election", nominees=["X", "P", "Q"], election_standard="plurality", seats=3, cumulative=True
    )
    x, p, _q = ids(poll).values()
    return Attempt(poll, w.users["alice"], {"cumulative": {x: "60", p: "29", _q: "0"}})


def frequency_option(w: World) -> Attempt:
    poll = make_annual_item(w.meeting, "frequency")
    return Attempt(poll, w.users["dora"], {"option": int(ids(poll)["1 Year"])})


def choice_splits(w: World) -> Attempt:
    poll = make_annual_item(w.meeting, "choice", options=["Austin", "Boston", "Chicago"], threshold="1/2")
    a, b, _c = ids(poll).values()
    return Attempt(poll, w.users["cede"], {"splits": {a: "600", b: "399"}})


def own_holder_named(w: World) -> Attempt:
    attempt = majority_votes(w)
    return Attempt(attempt.poll, attempt.actor, {**attempt.data, "holder": w.holders["alice"].pk})


def present_by_check_in(w: World) -> Attempt:
    attendance_check_in(meeting=w.meeting, holder_id=w.holders["alice"].pk, actor=w.users["alice"])
    return majority_votes(w)


def present_by_another_item(w: World) -> Attempt:
    other = make_annual_item(w.meeting, "frequency", title="Say-on-pay")
    _item_lines_cast_general(
        poll_id=other.pk, actor=w.users["alice"], data={"option": int(ids(other)["2 Years"])}, now=timezone.now()
    )
    return majority_votes(w)


def second_ballot(w: World) -> Attempt:
    attempt = majority_votes(w)
    x = ids(attempt.poll)["X"]
    _item_lines_cast_general(
        poll_id=attempt.poll.pk, actor=attempt.actor, data={"votes": {x: "against"}}, now=timezone.now()
    )
    return attempt


def withdrew_before(w: World) -> Attempt:
    """The holder's chain already has links (cast, withdrawn): a first ballot again appends."""
    attempt = second_ballot(w)
    ballot_withdraw(poll_id=attempt.poll.pk, actor=attempt.actor)
    return attempt


def closed_item(w: World) -> Attempt:
    poll = make_annual_item(
        w.meeting, "election", nominees=["X", "Y"], election_standard="majority", status=PollStatus.CLOSED
    )
    return Attempt(poll, w.users["alice"], {"votes": {ids(poll)["X"]: "for"}})


def past_its_closing_time(w: World) -> Attempt:
    attempt = majority_votes(w)
    Poll.objects.filter(pk=attempt.poll.pk).update(closes_at=timezone.now() - datetime.timedelta(seconds=1))
    return attempt


def by_proxy(w: World) -> Attempt:
    proxy_appoint(meeting=w.meeting, holder=w.holders["dora"], proxy=w.users["proxy"], actor=w.users["dora"])
    attempt = majority_votes(w)
    return Attempt(attempt.poll, w.users["proxy"], {**attempt.data, "holder": w.holders["dora"].pk})


def holder_and_proxy_unnamed(w: World) -> Attempt:
    """Alice holds Dora's proxy too: without `holder` the general path asks which one."""
    proxy_appoint(meeting=w.meeting, holder=w.holders["dora"], proxy=w.users["alice"], actor=w.users["dora"])
    return majority_votes(w)


def no_shares(w: World) -> Attempt:
    attempt = majority_votes(w)
    return Attempt(attempt.poll, w.users["zero"], attempt.data)


def over_the_limit(w: World) -> Attempt:
    attempt = cumulative(w)
    x = ids(attempt.poll)["X"]
    return Attempt(attempt.poll, attempt.actor, {"cumulative": {x: "91"}})


def unknown_nominee(w: World) -> Attempt:
    attempt = majority_votes(w)
    return Attempt(attempt.poll, attempt.actor, {"votes": {"999999999": "for"}})


@dataclass(frozen=True)
class Case:
    setup: Callable[[World], Attempt]
    taken: bool  # by the fast path's statements
    refusal: type[PollError] | None  # the general path's


CASES = {
    "majority votes": Case(majority_votes, taken=True, refusal=None),
    "ten nominees, as the bench votes": Case(ten_nominees, taken=True, refusal=None),
    "a nominee holder's splits": Case(majority_splits, taken=True, refusal=None),
    "plurality withhold": Case(plurality_withhold, taken=True, refusal=None),
    "cumulative": Case(cumulative, taken=True, refusal=None),
    "frequency option": Case(frequency_option, taken=True, refusal=None),
    "choice splits": Case(choice_splits, taken=True, refusal=None),
    "own holder named": Case(own_holder_named, taken=True, refusal=None),
    "present by check-in": Case(present_by_check_in, taken=True, refusal=None),
    "present by a ballot on another item": Case(present_by_another_item, taken=True, refusal=None),
    "second ballot": Case(second_ballot, taken=False, refusal=None),
    "withdrew before": Case(withdrew_before, taken=False, refusal=None),
    "by proxy": Case(by_proxy, taken=False, refusal=None),
    "closed item": Case(closed_item, taken=False, refusal=PollNotOpen),
    "past its closing time, not yet swept": Case(past_its_closing_time, taken=False, refusal=PollNotOpen),
    "holder and proxy, holder unnamed": Case(holder_and_proxy_unnamed, taken=False, refusal=InvalidVote),
    "no shares": Case(no_shares, taken=False, refusal=NotEligible),
    "over the cumulative limit": Case(over_the_limit, taken=False, refusal=InvalidVote),
    "unknown nominee": Case(unknown_nominee, taken=False, refusal=InvalidVote),
}


def written() -> tuple[Any, ...]:
    """Everything a ballot writes, to show a declined statement wrote nothing."""
    return (
        list(Ballot.objects.order_by("pk").values_list("pk", "weight", "voter_id", "holder_id")),
        list(BallotLine.objects.order_by("pk").values_list("pk", "option_id", "choice", "shares")),
        list(Option.objects.order_by("pk").values_list("pk", "votes", "weight")),
        list(
            NomineeTally.objects.order_by("pk").values_list(
                "pk", "against_ballots", "against_shares", "abstain_ballots", "abstain_shares"
            )
        ),
        list(ItemTerms.objects.order_by("pk").values_list("pk", "shares_voted")),
        list(Poll.objects.order_by("pk").values_list("pk", "ballot_count")),
        list(Meeting.objects.order_by("pk").values_list("pk", "shares_present")),
        list(Attendance.objects.order_by("pk").values_list("pk", "holder_id", "source")),
        AuditEvent.objects.count(),
        list(AuditHead.objects.order_by("stream").values_list("stream", "seq", "hash")),
        AuditRoot.objects.aggregate(n=Sum("n"))["n"],
    )


def outcome(attempt: Attempt, result: CastResult) -> dict[str, Any]:
    """What a cast left on its item and meeting, with ids replaced by labels and accounts."""
    poll = Poll.objects.select_related("meeting").get(pk=attempt.poll.pk)
    assert poll.meeting is not None
    label = dict(Option.objects.filter(poll=poll).values_list("pk", "label"))
    account = dict(Holder.objects.filter(register_id=poll.meeting.register_id).values_list("pk", "account"))
    ballot = Ballot.objects.get(pk=result.ballot.pk)
    assert ballot.holder_id is not None
    stream = f"ballot:{poll.pk}:holder:{ballot.holder_id}"
    link = AuditEvent.objects.filter(stream=stream).latest("seq")
    head = AuditHead.objects.get(stream=stream)
    payload = dict(link.payload)
    assert payload.pop("poll") == poll.pk
    payload["holder"] = account[payload["holder"]]
    payload["lines"] = [[label[option], choice, shares] for option, choice, shares in payload["lines"]]
    lines = sorted(
        (label[o], c, s)
        for o, c, s in BallotLine.objects.filter(ballot=ballot).values_list("option_id", "choice", "shares")
    )
    recount = [
        (line.label, line.running_votes, line.counted_votes, line.running_weight, line.counted_weight)
        for line in certification.poll_recount(poll=poll)
    ]
    return {
        "result": (
            result.created,
            result.changed,
            result.ballot.pk == ballot.pk,
            result.ballot.weight,
            result.ballot.holder_id == ballot.holder_id,
            result.ballot.voter_id == ballot.voter_id,
        ),
        "detail": [{**line, "option": label[int(str(line["option"]))]} for line in result.detail["lines"]],
        "ballot": (
            ballot.voter.username,
            account[ballot.holder_id],
            ballot.option_id,
            ballot.weight,
            ballot.salt,
            ballot.shares_for,
            ballot.shares_against,
            ballot.shares_abstain,
        ),
        "lines": lines,
        "options": list(poll.options.order_by("position").values_list("label", "votes", "weight")),
        "tallies": [
            (label[t.pk], t.against_ballots, t.against_shares, t.abstain_ballots, t.abstain_shares)
            for t in NomineeTally.objects.filter(option__poll=poll).order_by("option__position")
        ],
        "shares voted": ItemTerms.objects.get(poll=poll).shares_voted,
        "ballot count": poll.ballot_count,
        "ballots": Ballot.objects.filter(poll=poll).count(),
        "shares present": poll.meeting.shares_present,
        "attendance": sorted(
            (account[h], shares, source, by)
            for h, shares, source, by in Attendance.objects.filter(meeting=poll.meeting).values_list(
                "holder_id", "shares", "source", "recorded_by__username"
            )
        ),
        "link": (link.action, link.seq, link.actor_id == attempt.actor.pk, link.actor_name, payload),
        "link in the chain": (link.prev_hash != "") == (link.seq > 1)
        and (head.seq, head.hash) == (link.seq, link.hash),
        "link in the root": link.root_n is not None and link.root_shard is not None,
        "receipt": (
            result.link_hash == link.hash,
            receipts.ballot_receipt(poll_id=poll.pk, holder_id=ballot.holder_id, voter_id=None)
            == receipts.receipt_code(result.link_hash),
        ),
        "recount": recount,
        "recount agrees": all(r[1] == r[2] and r[3] == r[4] for r in recount),
        "tally problems": kinds.form_of(poll).tally_problems(poll),
    }


def verify_audit() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("name", list(CASES))
def test_the_fast_path_and_the_general_path_leave_the_same(name: str, users: dict[str, User]) -> None:
    case = CASES[name]
    fast, general = case.setup(world(users)), case.setup(world(users))
    now = timezone.now()
    before = written()
    taken = first_lines_ballot(poll_id=fast.poll.pk, actor=fast.actor, data=fast.data, now=now)
    assert (taken is not None) is case.taken
    if taken is None:
        assert written() == before
    if case.refusal is not None:
        with pytest.raises(case.refusal) as general_refusal:
            _item_lines_cast_general(poll_id=general.poll.pk, actor=general.actor, data=general.data, now=now)
        # What a holder gets: the statement declines, the general path refuses.
        with pytest.raises(case.refusal) as fast_refusal:
            item_lines_cast(poll_id=fast.poll.pk, actor=fast.actor, data=fast.data, now=now)
        assert str(fast_refusal.value.message).replace(str(fast.poll.pk), "#") == str(
            general_refusal.value.message
        ).replace(str(general.poll.pk), "#")
        assert written() == before
        return
    if taken is None:
        taken = item_lines_cast(poll_id=fast.poll.pk, actor=fast.actor, data=fast.data, now=now)
    rooted = AuditRoot.objects.aggregate(n=Sum("n"))["n"]
    result = _item_lines_cast_general(poll_id=general.poll.pk, actor=general.actor, data=general.data, now=now)
    assert AuditRoot.objects.aggregate(n=Sum("n"))["n"] == rooted + 1  # each folds one link into the root
    assert outcome(fast, taken) == outcome(general, result)
    assert verify_audit().startswith("Audit trail intact")


def test_the_hook_takes_a_first_ballot_in_two_statements(users: dict[str, User]) -> None:
    """Through item_lines_cast, a warm item: one read of the holder, then the ballot's statement and
    its totals' (each prepared once per connection, so the query log still shows their SQL)."""
    from django.test.utils import CaptureQueriesContext

    w = world(users)
    attempt = ten_nominees(w)
    warm = Attempt(attempt.poll, w.users["alice"], attempt.data)
    item_lines_cast(poll_id=warm.poll.pk, actor=warm.actor, data=warm.data)  # caches the item's terms
    with CaptureQueriesContext(connection) as queries:
        result = item_lines_cast(poll_id=attempt.poll.pk, actor=attempt.actor, data=attempt.data)
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 3, statements
    assert "INSERT INTO" in statements[1] and "shares_present" in statements[2]
    assert result.created and Ballot.objects.filter(pk=result.ballot.pk, weight=70).exists()
    assert BallotLine.objects.filter(ballot_id=result.ballot.pk).count() == 10


def test_a_certified_record_after_fast_ballots_matches_the_general_paths(users: dict[str, User]) -> None:
    """Certification recounts and checks the trail: it certifies an item voted by the statement."""
    from polls import services
    from tests.factories import make_secretary

    results = []
    for use_fast in (True, False):
        w = world(users)
        attempt = majority_votes(w)
        x, y, z = ids(attempt.poll).values()
        for who, data in (
            ("alice", attempt.data),
            ("bob", {"votes": {x: "against", y: "for"}}),
            ("cede", {"splits": {x: {"for": "900", "abstain": "100"}, z: {"against": "5"}}}),
        ):
            cast = first_lines_ballot if use_fast else _item_lines_cast_general
            assert cast(poll_id=attempt.poll.pk, actor=w.users[who], data=data, now=timezone.now()) is not None
        services.poll_close(poll=attempt.poll)
        record = certification.poll_certify(poll=Poll.objects.get(pk=attempt.poll.pk), actor=make_secretary())
        assert record.certified_result is not None
        frozen = {k: record.certified_result.get(k) for k in ("nominees", "total_ballots", "total_weight")}
        frozen["nominees"] = [{k: v for k, v in n.items() if k != "id"} for n in frozen["nominees"]]
        results.append(frozen)
    assert results[0] == results[1]
    assert verify_audit().startswith("Audit trail intact")


def test_a_nominee_removed_after_the_item_was_cached_sends_the_ballot_to_the_general_paths_refusal(
    users: dict[str, User],
) -> None:
    """The race an admin edit could win as the item opens: the cached ids name a nominee that is
    gone. Inside a caller's transaction the statement writes nothing and the general path refuses,
    so the transaction still commits (a line for the gone nominee would fail its foreign key there)."""
    from django.db import transaction

    w = world(users)
    attempt = majority_votes(w)
    x, _y, z = ids(attempt.poll).values()
    first_lines_ballot(poll_id=attempt.poll.pk, actor=users["bob"], data={"votes": {x: "for"}}, now=timezone.now())
    Option.objects.filter(pk=int(z)).delete()
    with transaction.atomic():
        fast = first_lines_ballot(poll_id=attempt.poll.pk, actor=attempt.actor, data=attempt.data, now=timezone.now())
        assert fast is None
        with pytest.raises(InvalidVote):
            item_lines_cast(poll_id=attempt.poll.pk, actor=attempt.actor, data=attempt.data)
    assert not Ballot.objects.filter(poll=attempt.poll, voter=attempt.actor).exists()
    assert Ballot.objects.filter(poll=attempt.poll).count() == 1
