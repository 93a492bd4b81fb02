from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.validators import SingleLineCharField
from proposals.review import Decision, QuorumBasis
from proposals.workflow import State


class ProposalKind(models.TextChoices):
    INVESTMENT = "investment", _("Investment")
    GOVERNANCE = "governance", _("Governance")
    COMPENSATION = "compensation", _("Compensation")
    OTHER = "other", _("Other")


# What the proposer writes, in form order; editable only in draft or returned.
# A comment is a paragraph or a few, not a document: documents are attachments.
COMMENT_MAX_CHARS = 10_000

PROPOSAL_TEXT_FIELDS = [
    "title",
    "summary",
    "body",
    "kind",
    "counterparty",
    "amount",
    "currency",
    "needs_shareholder_vote",
    "advisory",
]

STATE_CHOICES = [
    (State.DRAFT.value, _("Draft")),
    (State.SUBMITTED.value, _("Submitted")),
    (State.RETURNED.value, _("Returned")),
    (State.IN_REVIEW.value, _("In review")),
    (State.APPROVED.value, _("Approved")),
    (State.REJECTED.value, _("Rejected")),
    (State.REFERRED.value, _("Referred")),
    (State.SHAREHOLDER_VOTE.value, _("Shareholder vote")),
    (State.ADOPTED.value, _("Adopted")),
    (State.DEFEATED.value, _("Defeated")),
    (State.IMPLEMENTED.value, _("Implemented")),
    (State.WITHDRAWN.value, _("Withdrawn")),
]


DECISION_CHOICES = [
    (Decision.APPROVE.value, _("Approve")),
    (Decision.REJECT.value, _("Reject")),
    (Decision.REFER.value, _("Refer to the shareholders with no recommendation")),
    (Decision.ABSTAIN.value, _("Abstain")),
]

QUORUM_BASIS_CHOICES = [
    (QuorumBasis.ALL_IN_OFFICE.value, _("A majority of all directors in office")),
    (QuorumBasis.DISINTERESTED.value, _("A majority of the disinterested directors (special committee)")),
]


class Recommendation(models.TextChoices):
    FOR = "for", _("For")
    AGAINST = "against", _("Against")
    NONE = "none", _("No recommendation")


class Proposal(models.Model):
    title = SingleLineCharField(max_length=300)
    summary = models.CharField(max_length=1000)
    body = models.TextField(blank=True)
    proposer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals")
    kind = models.CharField(max_length=20, choices=ProposalKind.choices, default=ProposalKind.OTHER)
    amount = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217, e.g. USD.")
    counterparty = SingleLineCharField(max_length=200, blank=True, help_text='Who the proposal deals with, e.g. "xAI".')
    # The party `counterparty` names, resolved by services whenever the text changes.
    party = models.ForeignKey("Party", null=True, blank=True, on_delete=models.PROTECT, related_name="proposals")
    needs_shareholder_vote = models.BooleanField(default=False)
    advisory = models.BooleanField(default=False, help_text="A shareholder vote on it advises the board.")
    status = models.CharField(max_length=20, choices=STATE_CHOICES, default=State.DRAFT)
    review_due_at = models.DateTimeField(null=True, blank=True)
    # Set at the first submission: a draft withdrawn before it stays its proposer's own.
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    polls = models.ManyToManyField(
        "polls.Poll", blank=True, related_name="evidence_for", help_text="Sentiment evidence."
    )
    item = models.OneToOneField(
        "polls.Poll", null=True, blank=True, on_delete=models.PROTECT, related_name="proposal_put_to_vote"
    )
    # At most one proposal per escalating poll, even if the close is processed twice.
    escalated_from = models.OneToOneField(
        "polls.Poll", null=True, blank=True, on_delete=models.PROTECT, related_name="escalated_proposal"
    )
    # The board's recommendation to the shareholders, set with its decision; blank until then.
    board_recommendation = models.CharField(
        max_length=10, choices=Recommendation.choices, blank=True, default="", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=[s.value for s in State]), name="proposals_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=ProposalKind.values), name="proposals_kind_valid"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="proposals_amount_ok"),
            models.CheckConstraint(
                condition=Q(board_recommendation__in=["", *Recommendation.values]),
                name="proposals_board_recommendation_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class BoardSettings(models.Model):
    """The board's own settings: one row (id 1), changed by the secretary through
    `proposals.board.board_settings_update`, on the trail."""

    quorum_basis = models.CharField(
        max_length=20, choices=QUORUM_BASIS_CHOICES, default=QuorumBasis.ALL_IN_OFFICE.value
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "board settings"
        verbose_name_plural = "board settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="proposals_board_settings_singleton"),
            models.CheckConstraint(
                condition=Q(quorum_basis__in=[basis.value for basis in QuorumBasis]),
                name="proposals_board_settings_basis_valid",
            ),
        ]

    def __str__(self) -> str:
        return "Board settings"


class Party(models.Model):
    """Someone a proposal deals with and a director may have an interest in. Parties created
    from free text wait for the secretary to confirm them (or to add them as another party's
    alias); matching never waits: it goes by the normalised key of every alias."""

    name = models.CharField(max_length=200, unique=True)
    confirmed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "parties"

    def __str__(self) -> str:
        return self.name


class PartyAlias(models.Model):
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="aliases")
    text = models.CharField(max_length=200)
    # proposals.parties.party_key(text): one party per spelling, enforced by the database.
    key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["text"]
        constraints = [models.CheckConstraint(condition=~Q(key=""), name="proposals_party_alias_key_not_empty")]

    def __str__(self) -> str:
        return self.text


class Director(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="director")
    title = SingleLineCharField(max_length=200, blank=True)
    in_office = models.BooleanField(default=True)
    # The term the secretary records in the console; `in_office` follows it (people_services,
    # and the sweep on the day a term starts or ends).
    office_from = models.DateField(null=True, blank=True)
    office_to = models.DateField(null=True, blank=True)
    interests = models.JSONField(default=list, blank=True, help_text='Declared interests, e.g. ["xAI", "SpaceX"].')
    # The parties the declared interests resolve to; kept by people_services.director_save.
    parties = models.ManyToManyField(Party, blank=True, related_name="interested_directors")

    class Meta:
        ordering = ["user__username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(office_from__isnull=True) | Q(office_to__isnull=True) | Q(office_to__gte=F("office_from")),
                name="proposals_director_term_ordered",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.user.get_full_name() or self.user.get_username()} ({self.title})" if self.title else str(self.user)
        )

    def conflict_with(self, counterparty: str) -> str | None:
        """The declared interest that names the same party as `counterparty`, whatever the
        spelling: matched by normalised key, and through the aliases of a shared party."""
        from proposals.parties import party_key

        wanted = party_key(counterparty)
        if not wanted:
            return None
        by_key = {party_key(str(interest)): str(interest) for interest in self.interests}
        if wanted in by_key:
            return by_key[wanted]
        party_id = PartyAlias.objects.filter(key=wanted).values_list("party_id", flat=True).first()
        if party_id is None:
            return None
        declared = PartyAlias.objects.filter(party_id=party_id, key__in=[key for key in by_key if key])
        match = declared.values_list("key", flat=True).first()
        if match is not None:
            return by_key[match]
        party = self.parties.filter(pk=party_id).values_list("name", flat=True).first()
        return party

    def recused_from(self, proposal: Proposal) -> str | None:
        """The interest this director stands aside for on `proposal`, or None. A recusal
        recorded for the review binds whatever the director declares later; only a recusal
        the secretary lifted frees them, even if the interest is still declared."""
        recorded = Recusal.objects.filter(proposal_id=proposal.pk, director_id=self.pk).first()
        if recorded is not None:
            return None if recorded.lifted_at is not None else recorded.interest
        return self.conflict_with(proposal.counterparty)


class Recusal(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="recusals")
    director = models.ForeignKey(Director, on_delete=models.PROTECT, related_name="recusals")
    interest = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # Only the secretary lifts a recusal, with a reason; the row stays, so the trail reads true.
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "director"], name="proposals_one_recusal"),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True) | (Q(lifted_by__isnull=False) & ~Q(lift_reason="")),
                name="proposals_recusal_lift_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.director} recused ({self.interest})"


class ReviewVote(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="review_votes")
    director = models.ForeignKey(Director, on_delete=models.PROTECT, related_name="review_votes")
    decision = models.CharField(max_length=10, choices=DECISION_CHOICES)
    comment = models.TextField(blank=True)
    # Set when the secretary recorded the vote at a board meeting; it counts like any other.
    meeting = models.ForeignKey(
        "BoardMeeting", null=True, blank=True, on_delete=models.PROTECT, related_name="review_votes"
    )
    cast_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cast_at"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "director"], name="proposals_one_review_vote"),
            models.CheckConstraint(
                condition=Q(decision__in=[d.value for d in Decision]), name="proposals_review_decision_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.director}: {self.decision}"


class FollowUp(models.Model):
    """The board's next step after an advisory shareholder vote."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="follow_ups")
    due_at = models.DateTimeField()
    note = models.TextField()
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at"]
        # Settling twice must not open a second follow-up.
        constraints = [models.UniqueConstraint(fields=["proposal"], name="proposals_one_follow_up")]

    def __str__(self) -> str:
        return f"Follow-up on {self.proposal} due {self.due_at:%Y-%m-%d}"


class Comment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.proposal}"


class AttachmentVisibility(models.TextChoices):
    # Board papers stay with the board; the secretary marks what goes out with the proxy
    # statement, which everyone may read once the proposal is put to a shareholder vote.
    BOARD = "board", _("Board only")
    PROXY_MATERIAL = "proxy_material", _("Proxy material")


class Attachment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    visibility = models.CharField(
        max_length=20, choices=AttachmentVisibility.choices, default=AttachmentVisibility.BOARD
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(visibility__in=AttachmentVisibility.values), name="proposals_attachment_visibility_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name


# The board's written consents and meetings are in their own module (each module stays under
# 500 lines); imported here so that Django registers them with this app.
from proposals.board_models import (  # noqa: E402
    BoardAttendance,
    BoardMeeting,
    ConsentOutcome,
    ConsentResponse,
    ConsentSignature,
    ConsentStatus,
    MinutesApproval,
    MinutesComment,
    MinutesStatus,
    WrittenConsent,
)

__all__ = [
    "BoardAttendance",
    "BoardMeeting",
    "ConsentOutcome",
    "ConsentResponse",
    "ConsentSignature",
    "ConsentStatus",
    "MinutesApproval",
    "MinutesComment",
    "MinutesStatus",
    "WrittenConsent",
]
