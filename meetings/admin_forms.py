from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction

from core.errors import DomainError
from meetings import meeting_services
from meetings.models import Meeting


class MeetingAdminForm(forms.ModelForm):
    quorum = forms.CharField(
        max_length=20,
        initial="1/2",
        help_text="A fraction of the shares outstanding, e.g. 1/2. The register and the quorum are frozen "
        "once an item of the meeting has opened.",
    )
    actor: Any = None  # set per request by MeetingAdmin.get_form

    class Meta:
        model = Meeting
        fields = ["title", "date", "register", "quorum", "quorum_comparator", "proxy_cutoff"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["quorum"].initial = self.instance.quorum_text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            with transaction.atomic():
                if self.instance.pk is None:
                    self.instance = meeting_services.meeting_create(
                        title=data["title"],
                        date=data["date"],
                        register=data["register"],
                        quorum=data["quorum"],
                        quorum_comparator=data["quorum_comparator"],
                        proxy_cutoff=data.get("proxy_cutoff"),
                        actor=self.actor,
                    )
                else:
                    changed = set(self.changed_data)
                    changes = {name: data[name] for name in meeting_services.MEETING_FIELDS if name in changed}
                    self.instance = meeting_services.meeting_update(meeting=self.instance, actor=self.actor, **changes)
        except DomainError as error:
            raise ValidationError(error.message) from error
        return data
