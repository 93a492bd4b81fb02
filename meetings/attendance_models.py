"""Who is present at a meeting: a holder is, once they or their proxy cast a ballot on any of
its items or check in (or the secretary records them in person). The meeting keeps the shares
present as a counter beside these rows, so quorum never counts rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class AttendanceSource(models.TextChoices):
    BALLOT = "ballot", "A ballot on an item"
    CHECK_IN = "check_in", "Checked in"
    IN_PERSON = "in_person", "In person (the secretary)"


class Attendance(models.Model):
    meeting = models.ForeignKey("meetings.Meeting", on_delete=models.CASCADE, related_name="attendance")
    holder = models.ForeignKey("meetings.Holder", on_delete=models.CASCADE, related_name="attendance")
    # The holder's shares at the record date, as counted toward the meeting's shares present.
    shares = models.BigIntegerField()
    source = models.CharField(max_length=10, choices=AttendanceSource.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "holder"], name="meetings_attendance_once"),
            models.CheckConstraint(condition=Q(shares__gte=0), name="meetings_attendance_shares_non_negative"),
            models.CheckConstraint(
                condition=Q(source__in=AttendanceSource.values), name="meetings_attendance_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder_id} at {self.meeting_id}"
