from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from core.validators import no_control_characters
from meetings.attendance import attendance_summary
from meetings.models import Meeting, ProxyAppointment, RegisterSnapshot
from meetings.proxy_rules import INSTRUCTIONS
from polls.api.serializers import MAX_BIGINT, MAX_SHARES
from polls.models import Comparator, PollStatus
from polls.services import MAX_OPTIONS
from polls.standards import FRACTION_PATTERN


class MeetingAttendanceSerializer(serializers.Serializer):
    shares_present = serializers.CharField(help_text="Shares of the holders present, as an integer string.")
    shares_outstanding = serializers.CharField()
    quorum_met = serializers.BooleanField()


class MeetingSerializer(serializers.ModelSerializer):
    quorum = serializers.RegexField(FRACTION_PATTERN, default="1/2", source="quorum_text")
    quorum_comparator = serializers.ChoiceField(choices=Comparator.choices, default=Comparator.GT)
    record_date = serializers.DateField(source="register.record_date", read_only=True)
    items = serializers.SerializerMethodField(help_text="The ids of the items on the ballot (drafts excluded).")
    attendance = serializers.SerializerMethodField(
        help_text="Live attendance: a holder is present once they or their proxy vote on any item or check in."
    )
    proxy_cutoff = serializers.DateTimeField(
        source="proxy_cutoff_at",
        required=False,
        help_text="When proxy voting stops (default 23:59 the day before the meeting, in the site's time zone; "
        "set, no later than the end of the meeting day); holders vote their own shares until each item closes.",
    )

    class Meta:
        model = Meeting
        fields = [
            "id",
            "title",
            "date",
            "register",
            "record_date",
            "quorum",
            "quorum_comparator",
            "items",
            "attendance",
            "proxy_cutoff",
        ]

    @extend_schema_field(MeetingAttendanceSerializer)
    def get_attendance(self, meeting: Meeting) -> dict[str, object]:
        summary = attendance_summary(meeting)
        return {
            "shares_present": str(summary.shares_present),
            "shares_outstanding": str(summary.shares_outstanding),
            "quorum_met": summary.quorum_met,
        }

    def get_items(self, meeting: Meeting) -> list[int]:
        return [item.pk for item in meeting.items.all() if item.status != PollStatus.DRAFT]


class RegisterSnapshotSerializer(serializers.ModelSerializer):
    shares_outstanding = serializers.CharField(read_only=True)
    total_shares = serializers.CharField(read_only=True)

    class Meta:
        model = RegisterSnapshot
        fields = [
            "id",
            "record_date",
            "shares_outstanding",
            "holder_count",
            "total_shares",
            "source_name",
            "imported_at",
        ]
        read_only_fields = fields


class RegisterUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with the header holder,name,email,shares.")
    record_date = serializers.DateField()
    shares_outstanding = serializers.IntegerField(min_value=1, max_value=MAX_SHARES)


class RegisterErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Each bad line, by line number (a bad file)."
    )  # type: ignore[assignment] # a field


INSTRUCTION_HELP = (
    'Per item id: "for", "against", "abstain" or "recommendation" (the board\'s: a proposal\'s, or each '
    "nominee's in an election; an item choosing among options takes abstain or recommendation)."
)
MAX_INSTRUCTIONS = 200
MAX_PROXY_BALLOT_ENTRIES = 10_000


class ProxySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    holder = serializers.IntegerField(source="holder_id")
    proxy = serializers.CharField(
        source="shown_name", help_text="The proxy as the holder named them (username or e-mail address)."
    )
    instructions = serializers.SerializerMethodField(help_text=INSTRUCTION_HELP)
    discretionary = serializers.BooleanField(
        read_only=True, help_text="Items without an instruction: the proxy votes them as it sees fit, or not at all."
    )
    appointed_at = serializers.DateTimeField(read_only=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_instructions(self, appointment: ProxyAppointment) -> dict[str, str]:
        return {str(row.item_id): row.instruction for row in appointment.instructions.all()}


class ProxyAppointSerializer(serializers.Serializer):
    holder = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, help_text="The holder's id.")
    proxy = serializers.CharField(max_length=254, help_text="The proxy's username or e-mail address.")
    instructions = serializers.DictField(
        child=serializers.ChoiceField(choices=list(INSTRUCTIONS)),
        required=False,
        default=dict,
        help_text=INSTRUCTION_HELP,
    )
    discretionary = serializers.BooleanField(
        default=True,
        help_text="Whether the proxy may vote, as it sees fit, the items the instructions do not cover.",
    )

    def validate_instructions(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_INSTRUCTIONS:
            raise serializers.ValidationError(_("At most %(max)d instructions.") % {"max": MAX_INSTRUCTIONS})
        return value


class ProxyBallotSerializer(serializers.Serializer):
    choices = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        default=dict,
        help_text="Per item id, for every holder voted: a proposal's choice or the ballot its form takes "
        "(votes, splits, cumulative, option), as on POST /api/v1/polls/{id}/ballot/.",
    )
    holders = serializers.JSONField(
        required=False, help_text='The holders to vote: a list of holder ids, or "all" (the default).'
    )
    exceptions = serializers.DictField(
        child=serializers.DictField(child=serializers.JSONField(allow_null=True)),
        required=False,
        default=dict,
        help_text="Per holder id, per item id: that holder's choice or ballot instead, or null to leave the item.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        entries = len(attrs["choices"]) + sum(len(items) for items in attrs["exceptions"].values())
        if entries > MAX_PROXY_BALLOT_ENTRIES:
            raise serializers.ValidationError(_("At most %(max)d entries.") % {"max": MAX_PROXY_BALLOT_ENTRIES})
        holders = attrs.setdefault("holders", "all")
        if holders != "all" and not (isinstance(holders, list) and len(holders) <= MAX_PROXY_BALLOT_ENTRIES):
            raise serializers.ValidationError({"holders": _('A list of holder ids, or "all".')})
        return attrs


class ProxyBallotHolderSerializer(serializers.Serializer):
    holder = serializers.IntegerField(source="holder.pk")
    name = serializers.CharField(source="holder.name")
    shares = serializers.CharField(source="holder.shares")
    receipts = serializers.SerializerMethodField(help_text="Per item id voted: the receipt code.")
    directed = serializers.DictField(
        child=serializers.CharField(), help_text="Per item id: the instruction the ballot followed."
    )
    skipped = serializers.DictField(
        child=serializers.CharField(),
        help_text="Per item id left alone: holder_voted (their own ballot stands), no_discretion, instructed_blank.",
    )

    def get_receipts(self, report: Any) -> dict[str, str]:
        return {str(item): code for item, code in report.receipts().items()}


class ProxyNamedSerializer(serializers.Serializer):
    holder = serializers.IntegerField()
    proxy = serializers.CharField(help_text="The name as given; the answer does not say whether it matched.")
    detail = serializers.CharField()


RESIGNATION_STATES = ["pending", "accepted", "rejected"]
RESIGNATION_DECISIONS = ["accepted", "rejected"]


class ResignationSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="The election item.")
    nominee = serializers.IntegerField(help_text="The nominee's id (an option of the item).")
    name = serializers.CharField()
    tendered_at = serializers.DateTimeField(help_text="When the certified result did not elect them.")
    decision = serializers.ChoiceField(choices=RESIGNATION_STATES)
    decided_at = serializers.DateTimeField(allow_null=True)


class ResignationDecideSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)
    nominee = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)
    decision = serializers.ChoiceField(choices=RESIGNATION_DECISIONS)
    note = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", validators=[no_control_characters]
    )


class CheckInSerializer(serializers.Serializer):
    holder = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, help_text="The holder present.")


class AttendanceRowSerializer(serializers.Serializer):
    holder = serializers.IntegerField(source="holder_id")
    name = serializers.CharField(source="holder.name")
    shares = serializers.CharField()
    source = serializers.ChoiceField(choices=["ballot", "check_in", "in_person"])  # type: ignore[assignment] # a field, not Field.source
    at = serializers.DateTimeField()


class _OptionRecommended(serializers.IntegerField):
    """Null is "no recommendation"; an item of another form has no `option` at all."""

    def get_attribute(self, instance: Any) -> Any:
        if "option" not in instance:
            raise SkipField()
        return super().get_attribute(instance)


class RecommendationSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    form = serializers.CharField(help_text="proposal, election, frequency or choice.")
    recommendation = serializers.CharField(required=False, help_text='Proposals: "for", "against" or "none".')
    nominees = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text='Elections: per nominee id, "for", "against", "abstain" or "none" (majority voting), '
        '"for", "withhold" or "none" (plurality).',
    )
    option = _OptionRecommended(
        required=False, allow_null=True, help_text="Frequency and choice items: the option recommended, or null."
    )


NOMINEE_ID = r"^[1-9][0-9]{0,17}$"


class RecommendationSetSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, help_text="An item of this meeting.")
    recommendation = serializers.CharField(max_length=10, required=False, help_text="Proposals.")
    nominees = serializers.DictField(
        child=serializers.CharField(max_length=10),
        required=False,
        allow_empty=False,
        help_text="Elections: the nominees whose recommendation changes, by id.",
    )
    option = serializers.IntegerField(
        min_value=1, max_value=MAX_BIGINT, required=False, allow_null=True, help_text="Frequency and choice items."
    )

    def validate_nominees(self, nominees: dict[str, str]) -> dict[int, str]:
        wrong = [key for key in nominees if not re.fullmatch(NOMINEE_ID, key)]
        if wrong:
            raise serializers.ValidationError(_("Nominees are given by their numeric id."))
        if len(nominees) > MAX_OPTIONS:
            raise serializers.ValidationError(_("An election has at most %(count)s nominees.") % {"count": MAX_OPTIONS})
        return {int(key): said for key, said in nominees.items()}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("recommendation", "nominees", "option") if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(_("Give exactly one of recommendation, nominees or option."))
        return attrs
