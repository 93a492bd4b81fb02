from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.validators import no_control_characters
from polls import services
from polls.models import Option, Poll, ResultsVisibility
from polls.option_labels import option_label_clean, option_label_duplicates, options_not_distinct


class VoteForm(forms.Form):
    option = forms.ModelChoiceField(
        queryset=Option.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        label=_("Your choice"),
        error_messages={
            "required": _("Choose one of the options."),
            "invalid_choice": _("That option is not part of this poll."),
        },
    )

    def __init__(self, *args: Any, poll: Poll, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["option"].queryset = poll.options.all()  # type: ignore[attr-defined]


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's own date-and-time picker; the value round-trips in its format."""

    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class PollWindowForm(forms.Form):
    """When voting runs: the fields a public poll and a shareholder item share."""

    opens_at = forms.DateTimeField(label=_("Opens at"), widget=DateTimeLocalInput())
    closes_at = forms.DateTimeField(label=_("Closes at"), widget=DateTimeLocalInput())
    results_visibility = forms.ChoiceField(label=_("Results are shown"), choices=ResultsVisibility.choices)
    allow_change = forms.BooleanField(label=_("Voters may change their vote until it closes"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("opens_at") and data.get("closes_at") and data["closes_at"] <= data["opens_at"]:
            self.add_error("closes_at", _("The poll must close after it opens."))
        return data


class PollCreateForm(PollWindowForm):
    title = forms.CharField(label=_("Question"), max_length=300, validators=[no_control_characters])
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    options = forms.CharField(
        label=_("Options"),
        help_text=_("One per line, in the order voters see them."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    secret = forms.BooleanField(
        label=_("Secret ballot"),
        required=False,
        help_text=_("Nobody, you included, can see who chose what. Fixed once the poll opens."),
    )
    field_order = [
        "title",
        "description",
        "options",
        "opens_at",
        "closes_at",
        "results_visibility",
        "allow_change",
        "secret",
    ]

    def clean_options(self) -> list[str]:
        options = [option_label_clean(line) for line in self.cleaned_data["options"].splitlines() if line.strip()]
        if any(len(option) > services.MAX_OPTION_LABEL for option in options):
            raise forms.ValidationError(
                _("An option may be at most %(max)d characters long.") % {"max": services.MAX_OPTION_LABEL}
            )
        if option_label_duplicates(options):
            raise forms.ValidationError(options_not_distinct(options))
        return options


def _draft_initial(poll: Poll) -> dict[str, Any]:
    return {
        "title": poll.title,
        "description": poll.description,
        "opens_at": timezone.localtime(poll.opens_at),
        "closes_at": timezone.localtime(poll.closes_at),
        "results_visibility": poll.results_visibility,
        "allow_change": poll.allow_change,
    }


class PollDraftForm(PollCreateForm):
    """A draft public poll as it stands, options included; `poll_draft_update` saves it."""

    @classmethod
    def for_poll(cls, poll: Poll, data: Any = None) -> PollDraftForm:
        options = "\n".join(poll.options.values_list("label", flat=True))
        return cls(data, initial={**_draft_initial(poll), "options": options, "secret": poll.secret})


class ItemDraftForm(PollWindowForm):
    """A draft item's wording and window; its rules go through `item_rules_update`."""

    title = forms.CharField(label=_("Item"), max_length=300, validators=[no_control_characters])
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    field_order = ["title", "description", "opens_at", "closes_at", "results_visibility", "allow_change"]

    @classmethod
    def for_poll(cls, poll: Poll, data: Any = None) -> ItemDraftForm:
        return cls(data, initial=_draft_initial(poll))
