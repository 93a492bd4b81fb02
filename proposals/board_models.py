"""Models of the board acting outside the review page: unanimous written consent and board
meetings. Imported by proposals.models, so they belong to the proposals app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.validators import SingleLineCharField
from proposals.workflow import State

# --- Unanimous written consent (DGCL s.141(f)) -------------------------------------------------


class ConsentOutcome(models.TextChoices):
    # What the resolution decides; the state the proposal moves to when every director signs.
    APPROVED = State.APPROVED.value, _("Approve the proposal")
    REJECTED = State.REJECTED.value, _("Reject the proposal")
    REFERRED = State.REFERRED.value, _("Refer it to the shareholders with no recommendation")


class ConsentStatus(models.TextChoices):
    OPEN = "open", _("Open for signature")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class WrittenConsent(models.Model):
    """A resolution the board adopts without a meeting, only if every director in office when
    it was circulated signs it. The signers are fixed then (one `ConsentSignature` each)."""

    proposal = models.ForeignKey("proposals.Proposal", on_delete=models.PROTECT, related_name="consents")
    text = models.TextField()
    outcome = models.CharField(max_length=10, choices=ConsentOutcome.choices)
    deadline = models.DateTimeField()
    status = models.CharField(max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.OPEN)
    failure = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=ConsentOutcome.values), name="proposals_consent_outcome_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=ConsentStatus.values), name="proposals_consent_status_valid"),
            models.CheckConstraint(
                condition=Q(status=ConsentStatus.OPEN, closed_at__isnull=True)
                | (~Q(status=ConsentStatus.OPEN) & Q(closed_at__isnull=False)),
                name="proposals_consent_closed_when_not_open",
            ),
            # One resolution at a time per proposal: two open ones could decide it twice.
            models.UniqueConstraint(
                fields=["proposal"], condition=Q(status=ConsentStatus.OPEN), name="proposals_one_open_consent"
            ),
        ]

    def __str__(self) -> str:
        return f"Written consent {self.pk} on {self.proposal}"


class ConsentResponse(models.TextChoices):
    PENDING = "", _("Not yet")
    SIGNED = "signed", _("Signed")
    REFUSED = "refused", _("Refused")


class ConsentSignature(models.Model):
    consent = models.ForeignKey(WrittenConsent, on_delete=models.CASCADE, related_name="signatures")
    director = models.ForeignKey("proposals.Director", on_delete=models.PROTECT, related_name="consent_signatures")
    response = models.CharField(max_length=10, choices=ConsentResponse.choices, blank=True, default="")
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["director__user__username"]
        constraints = [
            models.UniqueConstraint(fields=["consent", "director"], name="proposals_one_signature_each"),
            models.CheckConstraint(
                condition=Q(response="", responded_at__isnull=True)
                | (Q(response__in=["signed", "refused"]) & Q(responded_at__isnull=False)),
                name="proposals_signature_response_timed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.director}: {self.response or 'pending'}"


# --- Board meetings ---------------------------------------------------------------------------


class MinutesStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CIRCULATED = "circulated", _("Circulated for comments")
    APPROVED = "approved", _("Approved")


class BoardMeeting(models.Model):
    """A meeting of the board: its agenda of proposals, who attended, the votes taken there
    (ReviewVote.meeting) and its minutes, which once approved by the board are frozen."""

    starts_at = models.DateTimeField()
    place = SingleLineCharField(max_length=200, blank=True)
    video_link = models.URLField(blank=True)
    agenda = models.ManyToManyField("proposals.Proposal", blank=True, related_name="board_meetings")
    minutes = models.TextField(blank=True, help_text="Markdown.")
    minutes_status = models.CharField(max_length=12, choices=MinutesStatus.choices, default=MinutesStatus.DRAFT)
    minutes_approved_at = models.DateTimeField(null=True, blank=True)
    # SHA-256 of the approved text, also on the trail: the printable page shows it.
    minutes_digest = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes_status__in=MinutesStatus.values), name="proposals_minutes_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(minutes_status=MinutesStatus.APPROVED)
                | (Q(minutes_approved_at__isnull=False) & ~Q(minutes_digest="")),
                name="proposals_minutes_approved_frozen",
            ),
        ]

    def __str__(self) -> str:
        return f"Board meeting of {self.starts_at:%Y-%m-%d}"


class BoardAttendance(models.Model):
    meeting = models.ForeignKey(BoardMeeting, on_delete=models.CASCADE, related_name="attendance")
    director = models.ForeignKey("proposals.Director", on_delete=models.PROTECT, related_name="board_attendance")
    present = models.BooleanField(default=False)

    class Meta:
        ordering = ["director__user__username"]
        constraints = [models.UniqueConstraint(fields=["meeting", "director"], name="proposals_one_attendance_each")]

    def __str__(self) -> str:
        return f"{self.director}: {'present' if self.present else 'absent'}"


class MinutesComment(models.Model):
    meeting = models.ForeignKey(BoardMeeting, on_delete=models.CASCADE, related_name="minutes_comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.meeting}"


class MinutesApproval(models.Model):
    meeting = models.ForeignKey(BoardMeeting, on_delete=models.CASCADE, related_name="minutes_approvals")
    director = models.ForeignKey("proposals.Director", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "director"], name="proposals_one_minutes_approval")]

    def __str__(self) -> str:
        return f"{self.director} approves the minutes of {self.meeting}"
