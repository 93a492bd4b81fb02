from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from proposals.review import Decision
from proposals.workflow import State


class ProposalKind(models.TextChoices):
    INVESTMENT = "investment", _("Investment")
    GOVERNANCE = "governance", _("Governance")
    COMPENSATION = "compensation", _("Compensation")
    OTHER = "other", _("Other")


# What the proposer writes, in form order; editable only in draft or returned.
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
    (Decision.ABSTAIN.value, _("Abstain")),
]


class Proposal(models.Model):
    title = models.CharField(max_length=300)
    summary = models.CharField(max_length=1000)
    body = models.TextField(blank=True)
    proposer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals")
    kind = models.CharField(max_length=20, choices=ProposalKind.choices, default=ProposalKind.OTHER)
    amount = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217, e.g. USD.")
    counterparty = models.CharField(max_length=200, blank=True, help_text='Who the proposal deals with, e.g. "xAI".')
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=[s.value for s in State]), name="proposals_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=ProposalKind.values), name="proposals_kind_valid"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="proposals_amount_ok"),
        ]

    def __str__(self) -> str:
        return self.title


class Director(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="director")
    title = models.CharField(max_length=200, blank=True)
    in_office = models.BooleanField(default=True)
    interests = models.JSONField(default=list, blank=True, help_text='Declared interests, e.g. ["xAI", "SpaceX"].')

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return (
            f"{self.user.get_full_name() or self.user.get_username()} ({self.title})" if self.title else str(self.user)
        )

    def conflict_with(self, counterparty: str) -> str | None:
        """The declared interest that matches `counterparty`, ignoring case, if any."""
        wanted = counterparty.strip().casefold()
        if not wanted:
            return None
        return next((interest for interest in self.interests if str(interest).strip().casefold() == wanted), None)


class Recusal(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="recusals")
    director = models.ForeignKey(Director, on_delete=models.PROTECT, related_name="recusals")
    interest = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "director"], name="proposals_one_recusal")]

    def __str__(self) -> str:
        return f"{self.director} recused ({self.interest})"


class ReviewVote(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="review_votes")
    director = models.ForeignKey(Director, on_delete=models.PROTECT, related_name="review_votes")
    decision = models.CharField(max_length=10, choices=DECISION_CHOICES)
    comment = models.TextField(blank=True)
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


class Attachment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """One e-mail to one person about one thing. The unique key makes enqueuing idempotent
    and `sent_at` makes sending so: a retried task finds it sent and stops."""

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40)
    proposal = models.ForeignKey(Proposal, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    recipient = models.EmailField()
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sent_at"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient}"
