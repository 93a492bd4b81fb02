from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class PollKind(models.TextChoices):
    PUBLIC = "public", "Public poll"
    SHAREHOLDER = "shareholder", "Shareholder poll"


class PollStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    CERTIFIED = "certified", "Certified"


class ResultsVisibility(models.TextChoices):
    LIVE = "live", "Live, to everyone"
    AFTER_VOTE = "after_vote", "To voters once they have voted"
    AFTER_CLOSE = "after_close", "Only after the poll closes"


def _choices_check(field: str, choices: type[models.TextChoices]) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}), name=f"%(app_label)s_%(class)s_{field}_valid"
    )


class Poll(models.Model):
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=PollKind.choices, default=PollKind.PUBLIC)
    status = models.CharField(max_length=20, choices=PollStatus.choices, default=PollStatus.DRAFT)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    allow_change = models.BooleanField(
        default=True, help_text="Voters may change or withdraw their ballot until the poll closes."
    )
    results_visibility = models.CharField(
        max_length=20, choices=ResultsVisibility.choices, default=ResultsVisibility.LIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    certified_at = models.DateTimeField(null=True, blank=True)
    certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-opens_at", "-id"]
        indexes = [models.Index(fields=["status", "opens_at"]), models.Index(fields=["status", "closes_at"])]
        constraints = [
            _choices_check("kind", PollKind),
            _choices_check("status", PollStatus),
            _choices_check("results_visibility", ResultsVisibility),
            models.CheckConstraint(condition=Q(closes_at__gt=F("opens_at")), name="polls_poll_window_positive"),
            models.CheckConstraint(
                condition=Q(status=PollStatus.CERTIFIED, certified_at__isnull=False) | ~Q(status=PollStatus.CERTIFIED),
                name="polls_poll_certified_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def effective_status(self, now: datetime.datetime | None = None) -> str:
        """The status a reader should see now, even if the sweep has not run yet."""
        now = now or timezone.now()
        if self.status == PollStatus.SCHEDULED and self.opens_at <= now:
            return PollStatus.OPEN if now < self.closes_at else PollStatus.CLOSED
        if self.status == PollStatus.OPEN and self.closes_at <= now:
            return PollStatus.CLOSED
        return self.status

    @property
    def is_open(self) -> bool:
        return self.effective_status() == PollStatus.OPEN


class Option(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    # Running totals, changed with F() in the ballot's own transaction; certification
    # recounts the ballots and compares.
    votes = models.BigIntegerField(default=0, editable=False)
    weight = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "label"], name="polls_option_label_unique"),
            models.CheckConstraint(condition=Q(votes__gte=0), name="polls_option_votes_non_negative"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="polls_option_weight_non_negative"),
        ]

    def __str__(self) -> str:
        return self.label


class Ballot(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="ballots")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ballots")
    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="ballots")
    weight = models.BigIntegerField(default=1)
    cast_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["poll", "voter"], name="polls_ballot_one_per_voter"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="polls_ballot_weight_positive"),
        ]
        indexes = [models.Index(fields=["poll", "option"])]

    def __str__(self) -> str:
        return f"{self.voter} in {self.poll}"
