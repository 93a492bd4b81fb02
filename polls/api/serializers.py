from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.settings import api_settings

from core.validators import no_control_characters, shown, stored_percent
from polls import kinds
from polls.api.item_serializers import (
    DISINTERESTED_STANDARDS,
    ITEM_FORMS,
    MAX_BIGINT,
    MAX_SHARES,
    BallotLineSerializer,
    DisinterestedSerializer,
    ElectionTermsSerializer,
    ItemAttendanceSerializer,
    NomineeResultSerializer,
    OptionDecisionSerializer,
    TabulationLineSerializer,
)
from polls.models import (
    Ballot,
    Choice,
    Comparator,
    Option,
    Poll,
    RecordedPoll,
    RecordedSnapshot,
    ResultsVisibility,
    VoteStandard,
)
from polls.option_labels import option_label_clean, option_label_duplicates, options_not_distinct
from polls.services import MAX_OPTIONS, MIN_OPTIONS
from polls.standards import FRACTION_PATTERN


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


API_KIND = Literal["public", "shareholder"]
ITEM_FORM = Literal["proposal", "election", "frequency", "choice"]


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
    kind = serializers.SerializerMethodField()
    form = serializers.SerializerMethodField()

    class Meta:
        model = Poll
        fields = [
            "id",
            "title",
            "description",
            "kind",
            "form",
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

    def get_kind(self, poll: Poll) -> API_KIND:
        return poll.ballot_form.api_kind  # type: ignore[return-value] # one of API_KIND's values

    def get_form(self, poll: Poll) -> ITEM_FORM | None:
        """A meeting item's ballot form (proposal, election, frequency, choice); null on a public poll."""
        return poll.ballot_form.form_name  # type: ignore[return-value] # one of ITEM_FORM's values

    def get_status(self, poll: Poll) -> str:
        # What the reader would see on the page: a poll past its closing time is closed.
        return poll.effective_status()


class OptionInputSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=200, validators=[no_control_characters])  # type: ignore[assignment] # a field, not Field.label


class NomineeInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, validators=[no_control_characters])


class EscalationSerializer(serializers.Serializer):
    option = serializers.CharField(help_text="The label of the option that escalates.")
    threshold = serializers.RegexField(FRACTION_PATTERN, default="2/3")
    comparator = serializers.ChoiceField(choices=Comparator.choices, default=Comparator.GE)


class PollCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, validators=[no_control_characters])
    description = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=kinds.API_KINDS, default="public")
    form = serializers.ChoiceField(
        choices=["proposal", "election", "frequency", "choice"],
        default="proposal",
        help_text="Shareholder items: the ballot form (DESIGN, Annual meeting ballots).",
    )
    nominees = serializers.ListField(
        child=NomineeInputSerializer(), min_length=2, max_length=MAX_OPTIONS, required=False, help_text="Elections."
    )
    seats = serializers.IntegerField(
        min_value=1,
        max_value=50,
        required=False,
        help_text="Elections: seats to fill (default: one per nominee under majority voting, else 1).",
    )
    election_standard = serializers.ChoiceField(choices=["majority", "plurality"], required=False)
    cumulative = serializers.BooleanField(default=False, help_text="Plurality elections: shares x seats votes each.")
    disinterested_standard = serializers.ChoiceField(
        choices=DISINTERESTED_STANDARDS,
        required=False,
        allow_null=True,
        help_text="Proposals that also need approval by the disinterested shares (a majority of the minority).",
    )
    disinterested_threshold = serializers.RegexField(FRACTION_PATTERN, required=False, help_text="Default 1/2.")
    disinterested_comparator = serializers.ChoiceField(choices=Comparator.choices, required=False)
    # Text checked by the ballot form's service, not an enum: the schema's "recommendation" enum is a nominee's.
    recommendation = serializers.RegexField(
        r"^(for|against|none)$",
        required=False,
        error_messages={"invalid": gettext_lazy('The recommendation is "for", "against" or "none".')},
        help_text='Proposals: the board\'s recommendation, "for", "against" or "none" (an election\'s is per nominee).',
    )
    options = serializers.ListField(
        child=OptionInputSerializer(),
        min_length=MIN_OPTIONS,
        max_length=MAX_OPTIONS,
        required=False,
        help_text="Public polls and choice items; a proposal gets for, against and abstain by itself, "
        "a frequency item 1, 2 and 3 years and abstain.",
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
    threshold = serializers.RegexField(
        FRACTION_PATTERN, required=False, help_text="Proposals (default 1/2); choice items, optional."
    )
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
        # Each ballot form is a kind of poll (polls/kinds.py); the API names it by kind and form.
        attrs["kind"] = kinds.kind_for(api_kind=attrs["kind"], form_name=attrs["form"])
        if "nominees" in attrs:
            attrs["nominees"] = [option_label_clean(nominee["name"]) for nominee in attrs["nominees"]]
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

    # Not a field of the row: the views add it from the ballot's form (kinds.BallotForm.ballot_detail),
    # and a ballot without lines has none (a source no ballot has makes the serializer skip it).
    # Not read-only in the serializer's terms: the schema would then list it as required, and a
    # proposal's or a public poll's ballot has no lines (this serializer only describes answers).
    lines = BallotLineSerializer(
        many=True,
        required=False,
        source="form_lines",
        help_text="Election, frequency and choice items: where the ballot's shares (or votes) go.",
    )

    class Meta(BallotSerializer.Meta):
        fields = [*BallotSerializer.Meta.fields, "lines", "receipt"]
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


MAX_BALLOT_LINES = 50


class BallotCastSerializer(serializers.Serializer):
    # Plain integers: the service checks the option belongs to the poll in the same query that
    # loads it, instead of a validator's extra SELECT.
    option = serializers.IntegerField(
        min_value=1, max_value=MAX_BIGINT, required=False, help_text="Public polls: the option's id."
    )
    choice = serializers.ChoiceField(choices=Choice.choices, required=False, help_text="Shareholder items.")
    split = SplitSerializer(required=False, help_text="Shareholder items: shares for, against and abstain.")
    votes = serializers.DictField(
        child=serializers.CharField(max_length=10),
        required=False,
        help_text='Elections: {"<nominee id>": "for"|"against"|"abstain"} (majority) or "for"|"withhold" (plurality).',
    )
    cumulative = serializers.DictField(
        child=serializers.CharField(max_length=20),
        required=False,
        help_text='Cumulative elections: {"<nominee id>": "<votes>"}, at most shares x seats in all.',
    )
    splits = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text='A nominee holder\'s split. Elections: {"<nominee id>": {"for": "n", "against": "n", ...}}; '
        'frequency and choice items: {"<option id>": "n"}.',
    )
    holder = serializers.IntegerField(
        min_value=1, max_value=MAX_BIGINT, required=False, help_text="The holder represented (proxies)."
    )

    def to_internal_value(self, data: Any) -> Any:
        # A misspelt "holder" would otherwise be dropped and the ballot cast for whichever holder
        # the account resolves to.
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {
                        api_settings.NON_FIELD_ERRORS_KEY: _("Unknown keys: %(keys)s.")
                        % {"keys": ", ".join(shown(key, 40) for key in unknown[:10])}
                    }
                )
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("option", "choice", "split", "votes", "cumulative", "splits") if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                _("Give exactly one of option, choice, split, votes, cumulative or splits.")
            )
        entries = attrs[given[0]]
        if isinstance(entries, dict) and len(entries) > MAX_BALLOT_LINES:
            raise serializers.ValidationError({given[0]: _("At most %(max)d entries.") % {"max": MAX_BALLOT_LINES}})
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
    # What a meeting item's ballot form adds (DESIGN, Annual meeting ballots); absent otherwise.
    disinterested = DisinterestedSerializer(
        source="extra.disinterested",
        required=False,
        help_text="Proposals needing the disinterested shares' approval: their tally; outcome.passed needs both.",
    )
    attendance = ItemAttendanceSerializer(
        source="extra.attendance", required=False, help_text="Meeting items: the meeting's shares present."
    )
    form = serializers.ChoiceField(
        choices=ITEM_FORMS, source="extra.form", required=False, help_text="Election, frequency and choice items."
    )
    election = ElectionTermsSerializer(source="extra.election", required=False, help_text="Elections.")
    nominees = NomineeResultSerializer(many=True, source="extra.nominees", required=False, help_text="Elections.")
    decision = OptionDecisionSerializer(
        source="extra.decision", required=False, help_text="Frequency and choice items: the plurality's winner."
    )


class TabulationSerializer(serializers.Serializer):
    shares_for = serializers.IntegerField(min_value=0, max_value=MAX_SHARES, required=False, help_text="Proposals.")
    shares_against = serializers.IntegerField(min_value=0, max_value=MAX_SHARES, required=False)
    shares_abstain = serializers.IntegerField(min_value=0, max_value=MAX_SHARES, required=False)
    lines = serializers.ListField(
        child=TabulationLineSerializer(),
        required=False,
        max_length=200,
        help_text="Elections, frequency and choice items: per nominee or option.",
    )
    broker_non_votes = serializers.IntegerField(min_value=0, max_value=MAX_SHARES, default=0)
    source = serializers.CharField(  # type: ignore[assignment] # a field, not Field.source
        max_length=255, required=False, allow_blank=True, default="", validators=[no_control_characters]
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        shares = [name for name in ("shares_for", "shares_against", "shares_abstain") if name in attrs]
        if "lines" in attrs and shares:
            raise serializers.ValidationError(_("Give lines, or shares for, against and abstain, not both."))
        if "lines" not in attrs and len(shares) != 3:
            raise serializers.ValidationError(_("Give shares_for, shares_against and shares_abstain (or lines)."))
        return attrs


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
