from __future__ import annotations

from typing import Any

from rest_framework import serializers

from polls.models import Ballot, Option, Poll, PollKind, ResultsVisibility
from polls.services import MAX_OPTIONS, MIN_OPTIONS


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class OptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Option
        fields = ["id", "label"]


class PollSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    options = OptionSerializer(many=True, read_only=True)

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
            "created_at",
            "certified_at",
        ]
        read_only_fields = fields

    def get_status(self, poll: Poll) -> str:
        # What the reader would see on the page: a poll past its closing time is closed.
        return poll.effective_status()


class OptionInputSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=200)  # type: ignore[assignment] # a field, not Field.label


class PollCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=[PollKind.PUBLIC], default=PollKind.PUBLIC)
    options = serializers.ListField(child=OptionInputSerializer(), min_length=MIN_OPTIONS, max_length=MAX_OPTIONS)
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    allow_change = serializers.BooleanField(default=True)
    results_visibility = serializers.ChoiceField(choices=ResultsVisibility.choices, default=ResultsVisibility.LIVE)

    def validate_options(self, options: list[dict[str, str]]) -> list[str]:
        labels = [option["label"].strip() for option in options]
        if len(set(labels)) != len(labels):
            raise serializers.ValidationError("Options must be distinct.")
        return labels

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["closes_at"] <= attrs["opens_at"]:
            raise serializers.ValidationError({"closes_at": "The poll must close after it opens."})
        return attrs


class PollUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    opens_at = serializers.DateTimeField(required=False)
    closes_at = serializers.DateTimeField(required=False)
    allow_change = serializers.BooleanField(required=False)
    results_visibility = serializers.ChoiceField(choices=ResultsVisibility.choices, required=False)


class BallotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ballot
        fields = ["poll", "option", "cast_at", "updated_at"]
        read_only_fields = fields


class BallotCastSerializer(serializers.Serializer):
    # A plain integer: the service checks the option belongs to the poll, in the same query
    # that loads it, instead of a validator's extra SELECT.
    option = serializers.IntegerField(min_value=1)


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


class ResultsSerializer(serializers.Serializer):
    status = serializers.CharField()
    total_ballots = serializers.IntegerField()
    total_weight = serializers.CharField()
    options = OptionResultSerializer(many=True)
    winner = WinnerSerializer(allow_null=True, help_text="Null when nobody voted or the top options tie.")
    tied = WinnerSerializer(many=True)
    turnout = TurnoutSerializer()
    certified = serializers.BooleanField()
    certified_at = serializers.DateTimeField(allow_null=True, source="poll.certified_at")


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
