"""Rows of the annual meeting's ballot forms (election, frequency, choice): an item's terms, its
nominees' running totals, and a ballot's lines. Nominees and options are the engine's Option
rows; their `votes`/`weight` counters hold the `for` figures (for an option, "chosen")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from meetings.ballot_rules import ElectionStandard, LineChoice, for_limit
from polls.models import Ballot, Option, Poll


class ElectionStandardChoices(models.TextChoices):
    MAJORITY = ElectionStandard.MAJORITY.value, "Majority (for > against)"
    PLURALITY = ElectionStandard.PLURALITY.value, "Plurality (most votes for)"


class LineChoiceChoices(models.TextChoices):
    FOR = LineChoice.FOR.value, "For"
    AGAINST = LineChoice.AGAINST.value, "Against"
    ABSTAIN = LineChoice.ABSTAIN.value, "Abstain"
    WITHHOLD = LineChoice.WITHHOLD.value, "Withhold"


class Recommendation(models.TextChoices):
    FOR = "for", "For"
    AGAINST = "against", "Against"
    ABSTAIN = "abstain", "Abstain"
    WITHHOLD = "withhold", "Withhold"
    NONE = "none", "None"


class DisinterestedStandard(models.TextChoices):
    VOTES_CAST = "votes_cast", "Votes cast by the disinterested shares"
    OUTSTANDING = "outstanding", "Disinterested shares outstanding"


class ItemTerms(models.Model):
    """What an election, frequency or choice item is decided by, and the shares its ballots
    speak for (kept with F() beside the ballot count, so quorum never counts rows)."""

    poll = models.OneToOneField(Poll, on_delete=models.CASCADE, primary_key=True, related_name="terms")
    seats = models.PositiveSmallIntegerField(default=1)
    election_standard = models.CharField(max_length=10, choices=ElectionStandardChoices.choices, blank=True)
    cumulative = models.BooleanField(default=False)
    # Choice items: an optional threshold of the votes cast the winner must reach.
    has_threshold = models.BooleanField(default=False)
    # The board's recommendation on a frequency or choice item (an option), if any.
    recommended_option = models.ForeignKey(Option, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    shares_voted = models.BigIntegerField(default=0, editable=False)
    # The board's recommendation on a proposal: for, against or none (meetings.recommendations).
    recommendation = models.CharField(
        max_length=10, choices=[("for", "For"), ("against", "Against"), ("none", "None")], default="none"
    )
    # A proposal that also needs approval by the disinterested shares (a majority of the
    # minority): their standard ("" when it does not), threshold and comparator.
    disinterested_standard = models.CharField(max_length=20, choices=DisinterestedStandard.choices, blank=True)
    disinterested_numerator = models.PositiveIntegerField(default=1)
    disinterested_denominator = models.PositiveIntegerField(default=2)
    disinterested_comparator = models.CharField(max_length=2, default=">")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(disinterested_standard__in=["", *DisinterestedStandard.values]),
                name="meetings_terms_disinterested_standard_valid",
            ),
            models.CheckConstraint(
                condition=Q(disinterested_numerator__gt=0, disinterested_numerator__lte=F("disinterested_denominator")),
                name="meetings_terms_disinterested_is_a_fraction",
            ),
            models.CheckConstraint(condition=Q(seats__gte=1, seats__lte=50), name="meetings_terms_seats_range"),
            models.CheckConstraint(
                condition=Q(election_standard__in=["", *ElectionStandardChoices.values]),
                name="meetings_terms_election_standard_valid",
            ),
            # Cumulative voting spreads votes for seats: it makes sense only under plurality.
            models.CheckConstraint(
                condition=Q(cumulative=False) | Q(election_standard=ElectionStandard.PLURALITY),
                name="meetings_terms_cumulative_only_plurality",
            ),
            models.CheckConstraint(condition=Q(shares_voted__gte=0), name="meetings_terms_shares_voted_non_negative"),
        ]

    def __str__(self) -> str:
        return f"Terms of {self.poll}"

    @property
    def for_limit(self) -> int | None:
        """How many nominees one ballot may vote for (ballot_rules.for_limit); None: any."""
        return for_limit(standard=self.election_standard or None, cumulative=self.cumulative, seats=self.seats)


class NomineeTally(models.Model):
    """A nominee's running totals beside its option's `for`: against (withheld under plurality)
    and abstain, as (ballots, shares). Moved with F() in the ballot's transaction."""

    option = models.OneToOneField(Option, on_delete=models.CASCADE, primary_key=True, related_name="tally")
    recommendation = models.CharField(max_length=10, choices=Recommendation.choices, default=Recommendation.FOR)
    against_ballots = models.BigIntegerField(default=0, editable=False)
    against_shares = models.BigIntegerField(default=0, editable=False)
    abstain_ballots = models.BigIntegerField(default=0, editable=False)
    abstain_shares = models.BigIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    against_ballots__gte=0, against_shares__gte=0, abstain_ballots__gte=0, abstain_shares__gte=0
                ),
                name="meetings_tally_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(recommendation__in=Recommendation.values), name="meetings_tally_recommendation_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Tally of {self.option}"


class BallotLine(models.Model):
    """Shares (cumulatively, votes) of one ballot given to one choice on one nominee or option."""

    # Neither reference has an index of its own: the unique (ballot, option, choice) and the
    # (option, choice) index lead with them, and every ballot writes ten lines or so, each once
    # per index.
    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="lines", db_index=False)
    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="+", db_index=False)
    choice = models.CharField(max_length=10, choices=LineChoiceChoices.choices)
    shares = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ballot", "option", "choice"], name="meetings_line_unique"),
            models.CheckConstraint(condition=Q(shares__gt=0), name="meetings_line_shares_positive"),
            models.CheckConstraint(condition=Q(choice__in=LineChoiceChoices.values), name="meetings_line_choice_valid"),
        ]
        indexes = [models.Index(fields=["option", "choice"])]

    def __str__(self) -> str:
        return f"{self.shares} {self.choice} {self.option_id}"


class TabulationLine(models.Model):
    """The inspector's figure for one choice on one nominee or option (elections, frequency,
    choice); the item's Tabulation row carries the broker non-votes and the source."""

    tabulation = models.ForeignKey("meetings.Tabulation", on_delete=models.CASCADE, related_name="lines")
    option = models.ForeignKey(Option, on_delete=models.CASCADE, related_name="+")
    choice = models.CharField(max_length=10, choices=LineChoiceChoices.choices)
    shares = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tabulation", "option", "choice"], name="meetings_tabline_unique"),
            models.CheckConstraint(condition=Q(shares__gte=0), name="meetings_tabline_non_negative"),
            models.CheckConstraint(
                condition=Q(choice__in=LineChoiceChoices.values), name="meetings_tabline_choice_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shares} {self.choice} {self.option_id}"


class ItemInterest(models.Model):
    """A holder marked interested in an item (the secretary, with a reason, before it opens):
    their shares and votes are left out of the item's disinterested tally."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="+")
    holder = models.ForeignKey("meetings.Holder", on_delete=models.CASCADE, related_name="interests")
    reason = models.CharField(max_length=300)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["poll", "holder"], name="meetings_interest_once")]

    def __str__(self) -> str:
        return f"{self.holder_id} interested in {self.poll_id}"
