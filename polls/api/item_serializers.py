"""Serializers of what a meeting item's ballot form adds to the API (DESIGN, Annual meeting
ballots; The shareholder's side): an election's terms and nominees, the plurality's decision, the
disinterested tally, attendance, interested holders and a ballot's or a tabulation's lines."""

from __future__ import annotations

from rest_framework import serializers

from core.validators import no_control_characters

MAX_BIGINT = 2**63 - 1
MAX_SHARES = 10**18 - 1  # what a register line may hold: 18 digits

ITEM_FORMS = ["proposal", "election", "frequency", "choice"]
DISINTERESTED_STANDARDS = ["votes_cast", "outstanding"]
ELECTION_STANDARDS = ["majority", "plurality"]
LINE_CHOICES = ["for", "against", "abstain", "withhold"]


class ElectionTermsSerializer(serializers.Serializer):
    standard = serializers.ChoiceField(choices=ELECTION_STANDARDS)
    seats = serializers.IntegerField()
    cumulative = serializers.BooleanField()


class NomineeResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    shares_for = serializers.CharField(help_text="Shares (cumulatively, votes) for, as an integer string.")
    against = serializers.CharField(allow_null=True, help_text="Majority elections; null under plurality.")
    withheld = serializers.CharField(allow_null=True, help_text="Plurality elections; null under majority.")
    abstain = serializers.CharField(allow_null=True, help_text="Majority elections; null under plurality.")
    broker_non_votes = serializers.CharField()
    percent = serializers.CharField(allow_null=True, help_text="For as a share of for + against (or withheld).")
    elected = serializers.BooleanField()
    status = serializers.ChoiceField(
        choices=["elected", "not_elected", "tied", "resignation_tendered", "no_quorum"],
        help_text="no_quorum: the meeting lacked quorum, so nobody is elected.",
    )
    recommendation = serializers.ChoiceField(choices=["for", "against", "abstain", "withhold", "none"])

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["for"] = fields.pop("shares_for")
        return fields


class OptionDecisionSerializer(serializers.Serializer):
    winner = serializers.IntegerField(
        allow_null=True, help_text="The winning option's id; null on a tie, below the threshold or without quorum."
    )
    percent = serializers.CharField(allow_null=True, help_text="The leader's share of the votes cast.")
    threshold = serializers.CharField(allow_null=True, help_text="Choice items with a threshold, e.g. 1/2.")
    threshold_met = serializers.BooleanField(allow_null=True)
    advisory = serializers.BooleanField()
    # Not required: results certified before it was kept do not have it.
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text='"no quorum" when the meeting lacked quorum, else empty.'
    )
    broker_non_votes = serializers.CharField()


class DisinterestedSerializer(serializers.Serializer):
    standard = serializers.ChoiceField(choices=DISINTERESTED_STANDARDS)
    threshold = serializers.CharField()
    shares_for = serializers.CharField()
    against = serializers.CharField()
    abstain = serializers.CharField()
    outstanding = serializers.CharField(help_text="Shares outstanding less the interested holders'.")
    percent = serializers.CharField(allow_null=True)
    passed = serializers.BooleanField()
    passed_without_condition = serializers.BooleanField(help_text="The what-if: the outcome without this condition.")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["for"] = fields.pop("shares_for")
        return fields


class InterestedInputSerializer(serializers.Serializer):
    holder = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)
    reason = serializers.CharField(max_length=300, validators=[no_control_characters])


class InterestedSerializer(serializers.Serializer):
    holder = serializers.IntegerField(source="holder_id")
    name = serializers.CharField(source="holder.name")
    shares = serializers.CharField(source="holder.shares")
    reason = serializers.CharField()
    marked_at = serializers.DateTimeField()


class ItemAttendanceSerializer(serializers.Serializer):
    shares_present = serializers.CharField(help_text="Shares present at the meeting, as an integer string.")


class BallotLineSerializer(serializers.Serializer):
    option = serializers.IntegerField(help_text="The nominee's or option's id.")
    choice = serializers.ChoiceField(choices=LINE_CHOICES)
    shares = serializers.CharField(help_text="Shares (cumulatively, votes) as an integer string.")


class TabulationLineSerializer(serializers.Serializer):
    option = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, help_text="The nominee's or option's id.")
    choice = serializers.ChoiceField(choices=LINE_CHOICES, default="for")
    shares = serializers.IntegerField(min_value=0, max_value=MAX_SHARES)
