from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.validators import no_control_characters
from meetings.models import Holder, Meeting, RegisterSnapshot
from meetings.register_import import RegisterFileTooLarge, register_import, register_max_bytes
from polls.exceptions import RegisterInvalid
from polls.forms import PollWindowForm
from polls.models import Choice, Comparator, Poll, VoteStandard


class MeetingBallotForm(forms.Form):
    """One for / against / abstain choice per open item; an item left blank is not voted."""

    def __init__(self, *args: Any, items: list[Poll], initial_choices: dict[int, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"item-{item.pk}"] = forms.ChoiceField(
                label=item.title,
                choices=Choice.choices,
                required=False,
                widget=forms.RadioSelect,
                initial=initial_choices.get(item.pk),
                error_messages={"invalid_choice": _("Choose for, against or abstain.")},
            )

    def item_fields(self) -> list[tuple[Poll, forms.BoundField]]:
        return [(item, self[f"item-{item.pk}"]) for item in self.items]

    def choices(self) -> dict[int, str]:
        return {
            item.pk: self.cleaned_data[f"item-{item.pk}"]
            for item in self.items
            if self.cleaned_data.get(f"item-{item.pk}")
        }


class ProxyForm(forms.Form):
    holder = forms.ModelChoiceField(queryset=Holder.objects.none(), empty_label=None, label=_("Holder"))
    # Looked up by the service, which answers alike whether or not an account matches.
    proxy = forms.CharField(max_length=254, label=_("Proxy's username or e-mail address"))

    def __init__(self, *args: Any, holders: list[Holder], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = Holder.objects.filter(pk__in=[h.pk for h in holders])  # type: ignore[attr-defined]


class RegisterImportForm(forms.Form):
    """A register of record as a CSV file; the admin and the secretary's console share it."""

    file = forms.FileField(label=_("Register file"), help_text=_("CSV with the header holder,name,email,shares."))
    record_date = forms.DateField(label=_("Record date"), widget=forms.DateInput(attrs={"type": "date"}))
    shares_outstanding = forms.IntegerField(label=_("Shares outstanding"), min_value=1, max_value=10**18 - 1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line_errors: list[str] = []

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = register_max_bytes()
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(RegisterFileTooLarge(limit).message)
        return upload

    def import_register(self, *, actor: User) -> RegisterSnapshot | None:
        """Import a valid form's file through the service; a refused file leaves its reasons
        on the form (every bad line in `line_errors`) and returns None."""
        upload = self.cleaned_data["file"]
        try:
            with upload.open("rb") as source:
                return register_import(
                    source=source,
                    record_date=self.cleaned_data["record_date"],
                    shares_outstanding=self.cleaned_data["shares_outstanding"],
                    actor=actor,
                    source_name=upload.name or "",
                )
        except RegisterInvalid as error:
            self.line_errors = error.errors
            self.add_error("file", error.message)
        except DomainError as error:
            self.add_error(None, error.message)
        return None


class MeetingCreateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300, validators=[no_control_characters])
    date = forms.DateField(label=_("Meeting date"), widget=forms.DateInput(attrs={"type": "date"}))
    register = forms.ModelChoiceField(
        label=_("Register of record"), queryset=RegisterSnapshot.objects.order_by("-record_date", "-id")
    )
    quorum = forms.CharField(label=_("Quorum"), initial="1/2", max_length=20, help_text=_("A fraction, e.g. 1/2."))
    quorum_comparator = forms.ChoiceField(label=_("Quorum is met with"), choices=Comparator.choices)


class MeetingEditForm(MeetingCreateForm):
    """The meeting as it stands; what changed goes to `meeting_update`, which refuses a new
    register or quorum once an item has opened (a form error)."""

    @classmethod
    def for_meeting(cls, meeting: Meeting, data: Any = None) -> MeetingEditForm:
        initial = {
            "title": meeting.title,
            "date": meeting.date,
            "register": meeting.register_id,
            "quorum": meeting.quorum_text,
            "quorum_comparator": meeting.quorum_comparator,
        }
        return cls(data, initial=initial)

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in self.cleaned_data}


class ItemCreateForm(PollWindowForm):
    title = forms.CharField(label=_("Item"), max_length=300, validators=[no_control_characters])
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    standard = forms.ChoiceField(label=_("Vote standard"), choices=VoteStandard.choices)
    threshold = forms.CharField(
        label=_("Threshold"), initial="1/2", max_length=20, help_text=_("A fraction, e.g. 2/3.")
    )
    comparator = forms.ChoiceField(label=_("Passes with"), choices=Comparator.choices)
    advisory = forms.BooleanField(label=_("Advisory vote"), required=False)
    field_order = ["title", "description", "standard", "threshold", "comparator", "advisory", "opens_at", "closes_at"]


class TabulationForm(forms.Form):
    """The inspector of elections' official totals for an item."""

    shares_for = forms.IntegerField(label=_("Shares for"), min_value=0, max_value=10**18 - 1)
    shares_against = forms.IntegerField(label=_("Shares against"), min_value=0, max_value=10**18 - 1)
    shares_abstain = forms.IntegerField(label=_("Shares abstaining"), min_value=0, max_value=10**18 - 1)
    broker_non_votes = forms.IntegerField(
        label=_("Broker non-votes"), min_value=0, max_value=10**18 - 1, initial=0, required=False
    )
    source = forms.CharField(
        label=_("Source"), max_length=255, required=False, help_text=_("Where the figures come from.")
    )
