from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from core.validators import no_control_characters, shown, stored_percent
from polls import kinds
from polls.models import (
    Ballot,
    Choice,
    Comparator,
    Option,
    Poll,
    PollKind,
    RecordedPoll,
    RecordedSnapshot,
    ResultsVisibility,
    VoteStandard,
)
from polls.option_labels import option_label_clean, option_label_duplicates, options_not_distinct
from polls.services import MAX_OPTIONS, MIN_OPTIONS
from polls.standards import FRACTION_PATTERN

MAX_BIGINT = 2**63 - 1
MAX_SHARES = 10**18 - 1  # what a register line may hold: 18 digits


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class OptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Option
        fields = ["id", "label"]


class PollSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    options = OptionSerializer(many=True, read_only=True)
    threshold = serializers.CharField(source="threshold_text", read_only=True, help_text="Items only, e.g. 1/2.")
    standard = serializers.ChoiceField(
        choices=VoteStandard.choices, allow_blank=True, read_only=True, help_text="Items only; blank on public polls."
    )
    comparator = serializers.CharField(source="threshold_comparator", read_only=True)

    class Meta:
        model = Poll
        fields = [
            "id",
            "title",
            "description",
            "kind",
            "status",
            "options",
            "opens_at",
            "closes_at",
            "allow_change",
            "results_visibility",
            "secret",
            "created_at",
            "certified_at",
            "meeting",
            "standard",
            "threshold",
            "comparator",
            "advisory",
        ]
        read_only_fields = fields

    def get_status(self, poll: Poll) -> str:
        # What the reader would see on the page: a poll past its closing time is closed.
        return poll.effective_status()


class OptionInputSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=200, validators=[no_control_characters])  # type: ignore[assignment] # a field, not Field.label


class EscalationSerializer(serializers.Serializer):
    option = serializers.CharField(help_text="The label of the option that escalates.")
    threshold = serializers.RegexField(FRACTION_PATTERN, default="2/3")
    comparator = serializers.ChoiceField(choices=Comparator.choices, default=Comparator.GE)


class PollCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, validators=[no_control_characters])
    description = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=PollKind.choices, default=PollKind.PUBLIC)
    options = serializers.ListField(
        child=OptionInputSerializer(),
        min_length=MIN_OPTIONS,
        max_length=MAX_OPTIONS,
        required=False,
        help_text="Public polls only; a shareholder item gets for, against and abstain by itself.",
    )
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    allow_change = serializers.BooleanField(default=True)
    results_visibility = serializers.ChoiceField(choices=ResultsVisibility.choices, required=False)
    secret = serializers.BooleanField(
        required=False,
        help_text="Public polls: nobody, the secretary included, can see who chose what. "
        "Default true for public polls; shareholder items are never secret.",
    )
    # The engine keeps an item's meeting as a key; the meetings app owns the table.
    meeting = serializers.PrimaryKeyRelatedField(
        queryset=Poll._meta.get_field("meeting").related_model._default_manager.all(),  # type: ignore[union-attr]
        required=False,
    )
    standard = serializers.ChoiceField(choices=VoteStandard.choices, default=VoteStandard.VOTES_CAST)
    threshold = serializers.RegexField(FRACTION_PATTERN, default="1/2")
    comparator = serializers.ChoiceField(choices=Comparator.choices, default=Comparator.GT)
    advisory = serializers.BooleanField(default=False)
    escalation = EscalationSerializer(
        required=False, help_text="Public polls: open a draft proposal when this option reaches the threshold."
    )

    def validate_options(self, options: list[dict[str, str]]) -> list[str]:
        labels = [option_label_clean(option["label"]) for option in options]
        if option_label_duplicates(labels):
            raise serializers.ValidationError(options_not_distinct(labels))
        return labels

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["closes_at"] <= attrs["opens_at"]:
            raise serializers.ValidationError({"closes_at": _("The poll must close after it opens.")})
        problem = kinds.form_for(attrs["kind"]).create_problem(attrs)
        if problem:
            raise serializers.ValidationError(problem)
        return attrs


class PollUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False, validators=[no_control_characters])
    secret = serializers.BooleanField(required=False, help_text="Public polls, before they open.")
    description = serializers.CharField(required=False, allow_blank=True)
    opens_at = serializers.DateTimeField(required=False)
    closes_at = serializers.DateTimeField(required=False)
    allow_change = serializers.BooleanField(required=False)
    results_visibility = serializers.ChoiceField(choices=ResultsVisibility.choices, required=False)


class BallotSerializer(serializers.ModelSerializer):
    voter = serializers.CharField(source="voter.get_username", read_only=True, help_text="The account that acted.")
    weight = serializers.CharField(read_only=True)
    shares_for = serializers.CharField(read_only=True, allow_null=True)
    shares_against = serializers.CharField(read_only=True, allow_null=True)
    shares_abstain = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Ballot
        fields = [
            "poll",
            "option",
            "holder",
            "voter",
            "weight",
            "shares_for",
            "shares_against",
            "shares_abstain",
            "cast_at",
            "updated_at",
        ]
        read_only_fields = fields


class BallotReceiptSerializer(BallotSerializer):
    """A ballot as its caster sees it after casting (or asking for it): with its receipt."""

    receipt = serializers.CharField(
        read_only=True,
        help_text=(
            "The ballot's receipt code: anyone may check it at `/receipts/{code}/` or "
            "`GET /api/v1/receipts/{code}/`. A change gives a new code; the old one then reads `superseded`."
        ),
    )

    class Meta(BallotSerializer.Meta):
        fields = [*BallotSerializer.Meta.fields, "receipt"]
        read_only_fields = fields


SPLIT_KEYS = ("for", "against", "abstain")


class SplitSerializer(serializers.Serializer):
    # Share counts travel as strings so no client rounds them through a float.
    shares_for = serializers.RegexField(r"^[0-9]{1,18}$", required=False)  # exposed as "for"
    against = serializers.RegexField(r"^[0-9]{1,18}$", required=False)
    abstain = serializers.RegexField(r"^[0-9]{1,18}$", required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["for"] = fields.pop("shares_for")
        return fields

    def to_internal_value(self, data: Any) -> Any:
        # A misspelt key ("againts") would otherwise be dropped, leaving its shares unvoted.
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in SPLIT_KEYS)
            if unknown:
                raise serializers.ValidationError(
                    _("Unknown keys in the split: %(keys)s. A split takes for, against and abstain.")
                    % {"keys": ", ".join(shown(key, 40) for key in unknown[:10])}
                )
        return super().to_internal_value(data)


class BallotCastSerializer(serializers.Serializer):
    # Plain integers: the service checks the option belongs to the poll in the same query that
    # loads it, instead of a validator's extra SELECT.
    option = serializers.IntegerField(
        min_value=1, max_value=MAX_BIGINT, required=False, help_text="Public polls: the option's id."
    )
    choice = serializers.ChoiceField(choices=Choice.choices, required=False, help_text="Shareholder items.")
    split = SplitSerializer(required=False, help_text="Shareholder items: shares for, against and abstain.")
    holder = serializers.IntegerField(
        min_value=1, max_value=MAX_BIGINT, required=False, help_text="The holder represented (proxies)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("option", "choice", "split") if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(_("Give exactly one of option, choice or split."))
        if "split" in attrs:
            attrs["split"] = {code: int(value) for code, value in attrs["split"].items()}
        return attrs


class OptionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment] # a field, not Field.label
    votes = serializers.IntegerField()
    weight = serializers.CharField(help_text="Total weight as an integer string (shares for shareholder items).")
    percent = serializers.CharField(help_text="Share of the votes, one decimal; all options sum to 100.0.")


class WinnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment] # a field, not Field.label


class TurnoutSerializer(serializers.Serializer):
    ballots = serializers.IntegerField()
    eligible = serializers.IntegerField()
    percent = serializers.CharField()


class ShareTotalsSerializer(serializers.Serializer):
    shares_for = serializers.CharField(source="for_")
    against = serializers.CharField()
    abstain = serializers.CharField()
    broker_non_votes = serializers.CharField()
    outstanding = serializers.CharField()
    source = serializers.ChoiceField(choices=["ballots", "tabulation"])  # type: ignore[assignment] # a field, not Field.source

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["for"] = fields.pop("shares_for")
        return fields


class QuorumSerializer(serializers.Serializer):
    present = serializers.CharField()
    outstanding = serializers.CharField()
    percent = serializers.CharField()
    threshold = serializers.CharField()
    met = serializers.BooleanField()


class OutcomeSerializer(serializers.Serializer):
    standard = serializers.CharField()
    threshold = serializers.CharField(help_text='The comparator and fraction, e.g. "> 1/2".')
    passed = serializers.BooleanField()
    percent = serializers.CharField(allow_null=True)
    quorum_met = serializers.BooleanField()
    reason = serializers.CharField(help_text='"passed", "failed" or "no quorum".')
    advisory = serializers.BooleanField()


class WhatIfSerializer(serializers.Serializer):
    standard = serializers.CharField()
    passed = serializers.BooleanField(help_text="Always false without quorum: the meeting could not act.")
    percent = serializers.CharField(allow_null=True)
    reason = serializers.CharField(help_text='"no quorum" when the meeting lacked quorum, else empty.')


class ResultsSerializer(serializers.Serializer):
    status = serializers.CharField()
    total_ballots = serializers.IntegerField()
    total_weight = serializers.CharField()
    options = OptionResultSerializer(many=True)
    winner = WinnerSerializer(allow_null=True, help_text="Null when nobody voted or the top options tie.")
    final = serializers.BooleanField(
        help_text="False while the poll runs: `winner` is then only the option leading so far."
    )
    tied = WinnerSerializer(many=True)
    turnout = TurnoutSerializer()
    certified = serializers.BooleanField()
    certified_at = serializers.DateTimeField(allow_null=True, source="poll.certified_at")
    totals = ShareTotalsSerializer(allow_null=True, help_text="Shareholder items: totals in shares.")
    quorum = QuorumSerializer(allow_null=True)
    outcome = OutcomeSerializer(allow_null=True)
    what_if = WhatIfSerializer(many=True)


class TabulationSerializer(serializers.Serializer):
    shares_for = serializers.IntegerField(min_value=0, max_value=MAX_SHARES)
    shares_against = serializers.IntegerField(min_value=0, max_value=MAX_SHARES)
    shares_abstain = serializers.IntegerField(min_value=0, max_value=MAX_SHARES)
    broker_non_votes = serializers.IntegerField(min_value=0, max_value=MAX_SHARES, default=0)
    source = serializers.CharField(  # type: ignore[assignment] # a field, not Field.source
        max_length=255, required=False, allow_blank=True, default="", validators=[no_control_characters]
    )


class StoredPercentagesField(serializers.DictField):
    """Written through the checks; read tolerantly, so one bad stored row cannot break the list."""

    def to_representation(self, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            return {}
        parsed = {str(label): stored_percent(value, label) for label in value}
        return {label: f"{percent:.1f}" for label, percent in parsed.items() if percent is not None}


class RecordedSnapshotSerializer(serializers.ModelSerializer):
    total_votes = serializers.IntegerField(min_value=0, max_value=MAX_BIGINT)
    percentages = StoredPercentagesField(
        child=serializers.DecimalField(max_digits=5, decimal_places=1, min_value=0, max_value=100)
    )

    class Meta:
        model = RecordedSnapshot
        fields = ["id", "taken_at", "total_votes", "percentages", "note"]


class RecordedPollSerializer(serializers.ModelSerializer):
    options = serializers.ListField(
        child=serializers.CharField(max_length=200, validators=[no_control_characters]), min_length=MIN_OPTIONS
    )
    snapshots = RecordedSnapshotSerializer(many=True, read_only=True)

    class Meta:
        model = RecordedPoll
        fields = ["id", "platform", "url", "author", "question", "options", "snapshots", "created_at"]
        read_only_fields = ["id", "snapshots", "created_at"]
