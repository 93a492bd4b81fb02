from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.validators import SingleLineCharField
from polls import lifecycle
from polls.lifecycle import Status
from polls.standards import Comparator as StandardComparator
from polls.standards import Standard

if TYPE_CHECKING:
    from polls.kinds import BallotForm


class PollKind(models.TextChoices):
    PUBLIC = "public", _("Public poll")
    SHAREHOLDER = "shareholder", _("Shareholder poll")
    # The annual meeting's other ballot forms (meetings/ballot_forms.py): items of a meeting too.
    ELECTION = "election", _("Director election")
    FREQUENCY = "frequency", _("Say-on-pay frequency")
    CHOICE = "choice", _("Multiple choice")


# The values of the next three come from the pure enums the rules are written in; here they get
# their translated labels. tests/polls/test_enums.py checks the members match one for one.


class PollStatus(models.TextChoices):
    DRAFT = Status.DRAFT.value, _("Draft")
    SCHEDULED = Status.SCHEDULED.value, _("Scheduled")
    OPEN = Status.OPEN.value, _("Open")
    CLOSED = Status.CLOSED.value, _("Closed")
    CERTIFIED = Status.CERTIFIED.value, _("Certified")


class VoteStandard(models.TextChoices):
    VOTES_CAST = Standard.VOTES_CAST.value, _("Votes cast (for / (for + against))")
    PRESENT_AND_ENTITLED = Standard.PRESENT_AND_ENTITLED.value, _("Present and entitled (abstain counts against)")
    OUTSTANDING = Standard.OUTSTANDING.value, _("Shares outstanding")
    PLURALITY = Standard.PLURALITY.value, _("Plurality")


class Comparator(models.TextChoices):
    GT = StandardComparator.GT.value, _("more than")
    GE = StandardComparator.GE.value, _("at least")


class Choice(models.TextChoices):
    """The three options every shareholder item has, in ballot order."""

    FOR = "for", _("For")
    AGAINST = "against", _("Against")
    ABSTAIN = "abstain", _("Abstain")


class ResultsVisibility(models.TextChoices):
    LIVE = "live", _("Live, to everyone")
    AFTER_VOTE = "after_vote", _("To voters once they have voted")
    AFTER_CLOSE = "after_close", _("Only after the poll closes")


def choices_check(field: str, choices: type[models.TextChoices]) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}), name=f"%(app_label)s_%(class)s_{field}_valid"
    )


class Poll(models.Model):
    title = SingleLineCharField(max_length=300)
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
    # Existing rows and shareholder items stay open ballots; the services make new public polls
    # secret unless the secretary says otherwise (their trail never held a choice to hide).
    secret = models.BooleanField(
        default=False,
        verbose_name=_("secret ballot"),
        help_text=_("Public polls only: nobody, the secretary included, can see who chose what."),
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
    # What certification froze: the recount, the totals and the outcome, as they were signed.
    certified_result = models.JSONField(null=True, blank=True, editable=False)
    # The audit root at certification and each root shard's link count then, so
    # `verify_audit --certified` can recompute the trail exactly as it was certified.
    certified_audit_root = models.JSONField(null=True, blank=True, editable=False)

    # Shareholder items only: the meeting whose ballot carries this item, and how it is decided.
    meeting = models.ForeignKey(
        "meetings.Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="items"
    )
    standard = models.CharField(max_length=30, choices=VoteStandard.choices, blank=True)
    threshold_numerator = models.PositiveIntegerField(default=1)
    threshold_denominator = models.PositiveIntegerField(default=2)
    threshold_comparator = models.CharField(max_length=2, choices=Comparator.choices, default=Comparator.GT)
    advisory = models.BooleanField(default=False, help_text="The vote advises the board; it does not bind it.")
    # Shareholder items: how many holders have a ballot (a split ballot counts once), kept
    # with F() beside the option totals so results never count rows. Public polls sum votes.
    ballot_count = models.BigIntegerField(default=0, editable=False)

    # Escalation (public polls): when the poll closes with this option at or above the
    # threshold, a draft proposal linked to the poll is opened and the secretary told.
    escalation_option = models.ForeignKey(
        "polls.Option", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation_numerator = models.PositiveIntegerField(default=2)
    escalation_denominator = models.PositiveIntegerField(default=3)
    escalation_comparator = models.CharField(max_length=2, choices=Comparator.choices, default=Comparator.GE)

    class Meta:
        ordering = ["-opens_at", "-id"]
        indexes = [models.Index(fields=["status", "opens_at"]), models.Index(fields=["status", "closes_at"])]
        constraints = [
            choices_check("kind", PollKind),
            choices_check("status", PollStatus),
            choices_check("results_visibility", ResultsVisibility),
            models.CheckConstraint(condition=Q(closes_at__gt=F("opens_at")), name="polls_poll_window_positive"),
            models.CheckConstraint(
                condition=Q(status=PollStatus.CERTIFIED, certified_at__isnull=False) | ~Q(status=PollStatus.CERTIFIED),
                name="polls_poll_certified_has_time",
            ),
            # A shareholder vote is public by design: only public polls may be secret.
            models.CheckConstraint(
                condition=Q(secret=False) | Q(kind=PollKind.PUBLIC), name="polls_poll_secret_only_public"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def phase(self, now: datetime.datetime) -> lifecycle.Phase:
        """Where `now` lies in the poll's window (before, during or after it)."""
        return lifecycle.phase_of(opens_at=self.opens_at, closes_at=self.closes_at, now=now)

    def effective_status(self, now: datetime.datetime | None = None) -> str:
        """The status a reader should see now, even if the sweep has not run yet (polls.lifecycle)."""
        return PollStatus(lifecycle.effective_status(self.status, self.phase(now or timezone.now())))

    def get_effective_status_display(self) -> str:
        return str(PollStatus(self.effective_status()).label)

    @property
    def is_open(self) -> bool:
        return self.effective_status() == PollStatus.OPEN

    @property
    def ballot_form(self) -> BallotForm:
        """What the poll's kind means (polls/kinds.py): pages ask it, never the kind."""
        from polls.kinds import form_of  # the registry imports this module

        return form_of(self)

    @property
    def threshold_text(self) -> str:
        return f"{self.threshold_numerator}/{self.threshold_denominator}"


class Option(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    label = SingleLineCharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    # for / against / abstain on shareholder items, so code never relies on labels.
    code = models.CharField(max_length=10, choices=Choice.choices, blank=True)
    # Running totals, changed with F() in the ballot's own transaction; certification
    # recounts the ballots and compares.
    votes = models.BigIntegerField(default=0, editable=False)
    weight = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "label"], name="polls_option_label_unique"),
            # "Yes" and "yes" are one answer; services also fold NFKC forms and spacing.
            models.UniqueConstraint("poll", Lower("label"), name="polls_option_label_ci_unique"),
            models.UniqueConstraint(fields=["poll", "code"], condition=~Q(code=""), name="polls_option_one_per_choice"),
            models.CheckConstraint(condition=Q(votes__gte=0), name="polls_option_votes_non_negative"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="polls_option_weight_non_negative"),
        ]

    def __str__(self) -> str:
        return self.label


class Ballot(models.Model):
    """One voter's ballot in a public poll, or one holder's ballot on a shareholder item.

    `voter` is the account that acted (the holder's own, or a proxy's); `holder` is whom the
    ballot represents. A shareholder ballot spreads the holder's shares over for, against and
    abstain: all on one choice (`option` set) or split by a nominee (`option` empty).
    """

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="ballots")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ballots")
    holder = models.ForeignKey(
        "meetings.Holder", null=True, blank=True, on_delete=models.PROTECT, related_name="ballots"
    )
    option = models.ForeignKey(Option, null=True, blank=True, on_delete=models.PROTECT, related_name="ballots")
    weight = models.BigIntegerField(default=1)
    shares_for = models.BigIntegerField(null=True, blank=True)
    shares_against = models.BigIntegerField(null=True, blank=True)
    shares_abstain = models.BigIntegerField(null=True, blank=True)
    # Secret polls: the key of the commitment the audit trail holds instead of the option,
    # new at every change (polls.secrecy). Empty on open ballots.
    salt = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)
    cast_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "voter"], condition=Q(holder__isnull=True), name="polls_ballot_one_per_voter"
            ),
            models.UniqueConstraint(
                fields=["poll", "holder"], condition=Q(holder__isnull=False), name="polls_ballot_one_per_holder"
            ),
            models.CheckConstraint(condition=Q(weight__gt=0), name="polls_ballot_weight_positive"),
            models.CheckConstraint(
                condition=Q(holder__isnull=True, option__isnull=False, shares_for__isnull=True)
                | Q(
                    holder__isnull=False,
                    shares_for__gte=0,
                    shares_against__gte=0,
                    shares_abstain__gte=0,
                    weight=F("shares_for") + F("shares_against") + F("shares_abstain"),
                )
                # An election, frequency or choice ballot: its lines (meetings.BallotLine) say
                # where its shares go; its weight is the shares it speaks for.
                | Q(
                    holder__isnull=False,
                    option__isnull=True,
                    shares_for__isnull=True,
                    shares_against__isnull=True,
                    shares_abstain__isnull=True,
                ),
                name="polls_ballot_shares_add_up",
            ),
        ]
        indexes = [models.Index(fields=["poll", "option"])]

    def __str__(self) -> str:
        return f"{self.voter} in {self.poll}"


class RecordedPoll(models.Model):
    """A poll held elsewhere (the X poll), kept so its history can be charted and cited."""

    platform = SingleLineCharField(max_length=100)
    url = models.URLField(max_length=500)
    author = SingleLineCharField(max_length=200)
    question = SingleLineCharField(max_length=500)
    options = models.JSONField(help_text="The option labels, in the platform's order.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.platform}: {self.question}"


class RecordedSnapshot(models.Model):
    """What the platform showed at one moment: the total and each option's percentage."""

    recorded_poll = models.ForeignKey(RecordedPoll, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField()
    total_votes = models.BigIntegerField()
    percentages = models.JSONField(help_text='Option label to percentage string, e.g. {"Yes": "67.9"}.')
    note = SingleLineCharField(max_length=300, blank=True)

    class Meta:
        ordering = ["taken_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(total_votes__gte=0), name="polls_snapshot_total_non_negative"),
            models.UniqueConstraint(fields=["recorded_poll", "taken_at"], name="polls_snapshot_one_per_moment"),
        ]

    def __str__(self) -> str:
        return f"{self.recorded_poll} at {self.taken_at:%Y-%m-%d %H:%M}"
