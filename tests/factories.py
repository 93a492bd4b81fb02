from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, cast

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.utils import timezone
from rest_framework.test import APIClient

from core.roles import SECRETARY_GROUP
from meetings import meeting_services
from meetings.models import Meeting, RegisterSnapshot
from meetings.register_import import register_import
from polls import services
from polls.models import Poll, PollStatus
from proposals.models import Director, Proposal


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"member{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("pw-for-tests-1")


class SecretaryFactory(UserFactory):
    username = factory.Sequence(lambda n: f"secretary{n}")
    is_staff = True

    @factory.post_generation
    def role(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.groups.add(Group.objects.get_or_create(name=SECRETARY_GROUP)[0])


def make_user(**fields: Any) -> User:
    """A member account; factory_boy's calls are untyped, this gives tests a real `User`."""
    return cast(User, UserFactory(**fields))


def make_secretary(**fields: Any) -> User:
    return cast(User, SecretaryFactory(**fields))


def api_for(user: User) -> APIClient:
    """An API client signed in as `user` (no token round trip: what a test of the API's rules needs)."""
    client = APIClient()
    client.force_authenticate(user)
    return client


def make_poll(
    *,
    options: tuple[str, ...] = ("Yes", "No"),
    status: str = PollStatus.OPEN,
    opens_in: datetime.timedelta = datetime.timedelta(hours=-1),
    lasts: datetime.timedelta = datetime.timedelta(days=1),
    **fields: Any,
) -> Poll:
    """A poll made through the service, then moved to `status` the way a secretary would."""
    opens_at = timezone.now() + opens_in
    poll = services.poll_create(
        title=fields.pop("title", "Should Tesla invest $5B into xAI?"),
        options=list(options),
        opens_at=opens_at,
        closes_at=opens_at + lasts,
        actor=None,
        **fields,
    )
    if status == PollStatus.SCHEDULED:
        services.poll_schedule(poll=poll)
    elif status in (PollStatus.OPEN, PollStatus.CLOSED):
        services.poll_open(poll=poll)
        if status == PollStatus.CLOSED:
            services.poll_close(poll=poll)
    poll.refresh_from_db()
    return poll


def register_csv(rows: Sequence[tuple[str, str, str, int | str]]) -> bytes:
    lines = ["holder,name,email,shares", *(f"{a},{n},{e},{s}" for a, n, e, s in rows)]
    return ("\n".join(lines) + "\n").encode()


def make_register(
    rows: Sequence[tuple[str, str, str, int | str]], *, outstanding: int, record_date: datetime.date | None = None
) -> RegisterSnapshot:
    import io

    return register_import(
        source=io.BytesIO(register_csv(rows)),
        record_date=record_date or datetime.date(2025, 9, 15),
        shares_outstanding=outstanding,
        actor=None,
    )


def make_split_register() -> RegisterSnapshot:
    """20,000 shares outstanding: Yolanda Fund 7,123 (H-1), Zachary Trust 3,456 (H-2) and a quiet
    holder 9,421 (H-3), so a for / against split leaves a share of the register unvoted."""
    return make_register(
        [
            ("H-1", "Yolanda Fund", "yolanda@example.com", 7_123),
            ("H-2", "Zachary Trust", "zachary@example.com", 3_456),
            ("H-3", "Quiet Holder", "quiet@example.com", 9_421),
        ],
        outstanding=20_000,
    )


def make_meeting(register: RegisterSnapshot, **fields: Any) -> Meeting:
    """A meeting dated 6 Nov 2025 whose items the tests open now; its proxy cut-off (by default
    the eve of the meeting) is moved a month ahead, so proxies may vote, unless the test gives
    the meeting's date (its cut-off then follows it) or a cut-off."""
    later = None if "date" in fields else timezone.now() + datetime.timedelta(days=30)
    cutoff = fields.pop("proxy_cutoff", later)
    meeting = meeting_services.meeting_create(
        title=fields.pop("title", "2025 Annual Meeting"),
        date=fields.pop("date", datetime.date(2025, 11, 6)),
        register=register,
        actor=None,
        **fields,
    )
    Meeting.objects.filter(pk=meeting.pk).update(proxy_cutoff=cutoff)
    meeting.proxy_cutoff = cutoff
    return meeting


def _brought_to(item: Poll, status: str) -> Poll:
    """An item as a test wants it: left a draft, or opened, or opened and closed."""
    if status in (PollStatus.OPEN, PollStatus.CLOSED):
        services.poll_open(poll=item)
        if status == PollStatus.CLOSED:
            services.poll_close(poll=item)
    item.refresh_from_db()
    return item


def make_item(meeting: Meeting, *, status: str = PollStatus.OPEN, **fields: Any) -> Poll:
    now = timezone.now()
    item = meeting_services.item_create(
        meeting=meeting,
        title=fields.pop("title", "Authorize the investment in xAI"),
        opens_at=fields.pop("opens_at", now - datetime.timedelta(hours=1)),
        closes_at=fields.pop("closes_at", now + datetime.timedelta(days=1)),
        actor=None,
        **fields,
    )
    return _brought_to(item, status)


def make_director(username: str, *, interests: tuple[str, ...] = (), title: str = "Director") -> Director:
    from proposals import people_services

    user = make_user(username=username, email=f"{username}@example.com")
    return people_services.director_save(director_user=user, title=title, interests=list(interests))


def make_proposal(proposer: User | None = None, **fields: Any) -> Proposal:
    from proposals import services as proposal_services

    return proposal_services.proposal_create(
        actor=proposer or make_user(),
        title=fields.pop("title", "Invest $5B in xAI"),
        summary=fields.pop("summary", "Authorize an investment of $5 billion in xAI."),
        kind=fields.pop("kind", "investment"),
        counterparty=fields.pop("counterparty", "xAI"),
        **fields,
    )


def proposal_state_force(proposal: Proposal, status: str, **fields: Any) -> Proposal:
    """Test set-up only: put a proposal in a state without walking the table, and record it on
    the proposal's trail as a transition would (a status off its trail stops the proposal)."""
    from django.db import transaction

    from core.audit import audit_append

    with transaction.atomic():
        Proposal.objects.filter(pk=proposal.pk).update(status=status, **fields)
        audit_append(stream=f"proposal:{proposal.pk}", action="state_forced", actor=None, payload={"to": status})
    proposal.refresh_from_db()
    return proposal


def start_review(proposal: Proposal, secretary: User, *, days: int = 7) -> Proposal:
    """Submit a draft (as its proposer) and start the board review, due in `days`."""
    from proposals import services as proposal_services
    from proposals.workflow import Action

    proposal_services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposal.proposer)
    return proposal_services.proposal_transition(
        proposal_id=proposal.pk,
        action=Action.START_REVIEW,
        actor=secretary,
        due_at=timezone.now() + datetime.timedelta(days=days),
    )


def make_annual_item(meeting: Meeting, kind: str, *, status: str = PollStatus.OPEN, **fields: Any) -> Poll:
    """An election, frequency or choice item (meetings.ballot_services.annual_item_create)."""
    from meetings.ballot_services import annual_item_create

    now = timezone.now()
    item = annual_item_create(
        meeting=meeting,
        kind=kind,
        title=fields.pop(
            "title", {"election": "Elect directors", "frequency": "Say-on-pay frequency"}.get(kind, "Pick one")
        ),
        opens_at=fields.pop("opens_at", now - datetime.timedelta(hours=1)),
        closes_at=fields.pop("closes_at", now + datetime.timedelta(days=1)),
        actor=None,
        **fields,
    )
    return _brought_to(item, status)
