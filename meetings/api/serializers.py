from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.validators import no_control_characters
from meetings.attendance import attendance_summary
from meetings.models import Meeting, RegisterSnapshot
from polls.api.serializers import MAX_BIGINT, MAX_SHARES
from polls.models import Comparator, PollStatus
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


class ProxySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    holder = serializers.IntegerField(source="holder_id")
    proxy = serializers.CharField(
        source="shown_name", help_text="The proxy as the holder named them (username or e-mail address)."
    )
    appointed_at = serializers.DateTimeField(read_only=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ProxyAppointSerializer(serializers.Serializer):
    holder = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, help_text="The holder's id.")
    proxy = serializers.CharField(max_length=254, help_text="The proxy's username or e-mail address.")


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
