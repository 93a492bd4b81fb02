from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from core.errors import DomainError
from core.validators import no_control_characters
from meetings import ballot_rules
from meetings.ballot_rules import ElectionStandard, LineChoice
from meetings.ballot_selectors import BallotItem
from meetings.models import Meeting, RegisterSnapshot
from meetings.register_import import RegisterFileTooLarge, register_import, register_max_bytes
from polls.exceptions import RegisterInvalid
from polls.forms import DateTimeLocalInput, PollWindowForm
from polls.models import Choice, Comparator, Option, VoteStandard

# A nominee's choices on the page, in the reader's language (the stored values are LineChoice's).
LINE_CHOICE_LABELS = {
    LineChoice.FOR: _("For"),
    LineChoice.AGAINST: _("Against"),
    LineChoice.ABSTAIN: _("Abstain"),
    LineChoice.WITHHOLD: _("Withhold"),
}
RECOMMENDATION_LABELS = {
    "for": pgettext_lazy("board recommendation", "For"),
    "against": pgettext_lazy("board recommendation", "Against"),
    "abstain": pgettext_lazy("board recommendation", "Abstain"),
    "withhold": pgettext_lazy("board recommendation", "Withhold"),
}
# The board's word on a nominee as the item's standard says it: against is withheld under
# plurality voting and withheld is against under majority voting; "none" is no vote.
RECOMMENDATION_AS = {
    "for": ("for",),
    "against": ("against", "withhold"),
    "withhold": ("withhold", "against"),
    "abstain": ("abstain",),
}

Payload = str | dict[str, Any]


def _grouped(value: int) -> str:
    return number_format(value, force_grouping=True)


def _single_choice(by_choice: Mapping[str, int] | None) -> str | None:
    """The choice a nominee's radios show: one, when the ballot gave it all that nominee's lines."""
    return next(iter(by_choice)) if by_choice and len(by_choice) == 1 else None


class ItemPart:
    """One open item on the meeting's ballot: the fields it adds to the page's form, the partial
    template that renders them, what the holder's ballot on it says now, and the payload
    meeting_ballot_cast takes from what was chosen (None: the item is left unvoted)."""

    template_name = ""

    def __init__(self, form: MeetingBallotForm, data: BallotItem, shares: int) -> None:
        self.form, self.data, self.item, self.shares = form, data, data.item, shares
        self.name = f"item-{self.item.pk}"
        self.error_id = f"{self.name}-error"

    def add_fields(self) -> None:
        """Nothing to add by default."""

    def payload(self, cleaned: Mapping[str, Any]) -> Payload | None:
        return None

    def recommend(self, data: Any) -> None:
        """Put the board's recommendation in the posted data, where the form has one."""

    @property
    def errors(self) -> list[str]:
        """The item's own errors: its field's, and the refusal of the service, if any."""
        own = [str(error) for error in self.form.errors.get(self.name, [])]
        return own + self.form.item_errors.get(self.item.pk, [])

    @property
    def field(self) -> forms.BoundField:
        return self.form[self.name]


class UnknownPart(ItemPart):
    """A form the page has no part for yet: the item says so instead of failing the page."""

    template_name = "meetings/ballot/unknown.html"


class ProposalPart(ItemPart):
    """For, against or abstain on a proposal (the holder's shares all go to one choice)."""

    template_name = "meetings/ballot/proposal.html"

    def add_fields(self) -> None:
        self.form.fields[self.name] = forms.ChoiceField(
            label=self.item.title,
            choices=Choice.choices,
            required=False,
            widget=forms.RadioSelect,
            initial=self.data.current.choice,
            error_messages={"invalid_choice": _("Choose for, against or abstain.")},
        )

    def payload(self, cleaned: Mapping[str, Any]) -> Payload | None:
        return cleaned.get(self.name) or None

    @property
    def recorded(self) -> str:
        choice = self.data.current.choice
        return str(Choice(choice).label) if choice in Choice.values else ""

    @property
    def recommendation_label(self) -> str:
        """The board's recommendation stored on the item (meetings.recommendations), if any."""
        terms = self.data.terms
        return str(RECOMMENDATION_LABELS.get(terms.recommendation, "")) if terms is not None else ""


class OptionPart(ItemPart):
    """A frequency or choice item: one of its options (labels in the reader's words)."""

    template_name = "meetings/ballot/option.html"

    def label(self, option: Option) -> str:
        return self.item.ballot_form.option_label(option.label)

    def add_fields(self) -> None:
        lines = self.data.current.lines
        chosen = next(iter(lines)) if len(lines) == 1 else None
        self.form.fields[self.name] = forms.ChoiceField(
            label=self.item.title,
            choices=[(str(option.pk), self.label(option)) for option in self.data.options],
            required=False,
            widget=forms.RadioSelect,
            initial=str(chosen) if chosen is not None else None,
            error_messages={"invalid_choice": _("Choose one of the options shown.")},
        )

    def payload(self, cleaned: Mapping[str, Any]) -> Payload | None:
        value = cleaned.get(self.name)
        return {"option": int(value)} if value else None

    @property
    def recommended(self) -> str:
        terms = self.data.terms
        option = terms.recommended_option if terms is not None else None
        return self.label(option) if option is not None else ""

    @property
    def recorded(self) -> str:
        lines = self.data.current.lines
        labels = {option.pk: self.label(option) for option in self.data.options}
        if len(lines) == 1:
            return labels.get(next(iter(lines)), "")
        return " · ".join(f"{labels.get(pk, pk)}: {_grouped(sum(by.values()))}" for pk, by in lines.items())


class NomineeRow:
    """One nominee of an election on the page: the field, the board's word and the recorded ballot."""

    def __init__(self, part: ElectionPart, option: Option) -> None:
        self.part, self.option, self.name = part, option, option.label
        self.field = part.form[part.nominee_field(option)]
        self.recommendation = part.recommendation(option) or ""
        tally = getattr(option, "tally", None)
        self.recommendation_label = RECOMMENDATION_LABELS.get(tally.recommendation, "") if tally else ""
        self.recorded = part.recorded_text(part.data.current.lines.get(option.pk, {}))

    @property
    def error_id(self) -> str:
        return f"{self.field.auto_id}_error"

    @property
    def input(self) -> str:
        """The number input, described by the votes-left counter (and its errors, if any)."""
        described = f"{self.part.name}-left" + (f" {self.error_id}" if self.field.errors else "")
        return self.field.as_widget(attrs={"aria-describedby": described})


class ElectionPart(ItemPart):
    """A director election: one radio group per nominee, for / against / abstain under majority
    voting or for / withhold under plurality; a nominee left blank is unvoted."""

    template_name = "meetings/ballot/election.html"

    def __init__(self, form: MeetingBallotForm, data: BallotItem, shares: int) -> None:
        super().__init__(form, data, shares)
        assert data.terms is not None  # noqa: S101 - an election has terms (annual_item_create)
        self.terms = data.terms
        self.standard = ElectionStandard(self.terms.election_standard)
        self.allowed = ballot_rules.allowed_choices(self.standard)
        self.majority = self.standard == ElectionStandard.MAJORITY

    def nominee_field(self, option: Option) -> str:
        return f"{self.name}-nominee-{option.pk}"

    def add_fields(self) -> None:
        for option in self.data.options:
            self.form.fields[self.nominee_field(option)] = forms.ChoiceField(
                label=option.label,
                choices=[(choice.value, LINE_CHOICE_LABELS[choice]) for choice in self.allowed],
                required=False,
                widget=forms.RadioSelect,
                initial=_single_choice(self.data.current.lines.get(option.pk)),
                error_messages={"invalid_choice": _("Choose one of the choices shown for this nominee.")},
            )

    @property
    def rows(self) -> list[NomineeRow]:
        return [NomineeRow(self, option) for option in self.data.options]

    def recommendation(self, option: Option) -> str | None:
        """The board's recommendation on the nominee as a choice this election allows, if any."""
        tally = getattr(option, "tally", None)
        said = RECOMMENDATION_AS.get(tally.recommendation, ()) if tally is not None else ()
        return next((choice for choice in said if choice in self.allowed), None)

    @property
    def recommendable(self) -> bool:
        return any(self.recommendation(option) for option in self.data.options)

    def recommend(self, data: Any) -> None:
        for option in self.data.options:
            choice = self.recommendation(option)
            if choice:
                data[self.nominee_field(option)] = choice

    def recorded_text(self, by_choice: Mapping[str, int]) -> str:
        if len(by_choice) == 1 and sum(by_choice.values()) == self.shares:
            return str(LINE_CHOICE_LABELS.get(LineChoice(next(iter(by_choice))), ""))
        return " · ".join(
            f"{LINE_CHOICE_LABELS[LineChoice(choice)]} {_grouped(shares)}" for choice, shares in by_choice.items()
        )

    def payload(self, cleaned: Mapping[str, Any]) -> Payload | None:
        votes = {
            str(option.pk): cleaned[self.nominee_field(option)]
            for option in self.data.options
            if cleaned.get(self.nominee_field(option))
        }
        return {"votes": votes} if votes else None


class CumulativePart(ElectionPart):
    """A cumulative election: shares x seats votes to spread over the nominees in whole numbers,
    with the votes left counted as the holder types (meetings/ballot.js) and by the page."""

    template_name = "meetings/ballot/cumulative.html"

    @property
    def limit(self) -> int:
        return self.shares * self.terms.seats

    def add_fields(self) -> None:
        for option in self.data.options:
            self.form.fields[self.nominee_field(option)] = forms.IntegerField(
                label=option.label,
                min_value=0,
                max_value=10**18 - 1,
                required=False,
                initial=self.data.current.lines.get(option.pk, {}).get(LineChoice.FOR),
                widget=forms.NumberInput(attrs={"min": "0", "step": "1", "inputmode": "numeric"}),
                error_messages={
                    "invalid": _("Enter a whole number of votes, 0 or more."),
                    "min_value": _("Enter a whole number of votes, 0 or more."),
                },
            )

    def recommendation(self, option: Option) -> str | None:
        # How the board would spread votes is not a choice per nominee: no one-click vote here.
        return None

    def recorded_text(self, by_choice: Mapping[str, int]) -> str:
        votes = by_choice.get(LineChoice.FOR)
        return ngettext("%(votes)s vote", "%(votes)s votes", votes) % {"votes": _grouped(votes)} if votes else ""

    @property
    def votes_given(self) -> int:
        """The votes the inputs hold as the page shows them (what was posted, or the ballot)."""
        total = 0
        for option in self.data.options:
            value = self.form[self.nominee_field(option)].value()
            text = str(value).strip() if value is not None else ""
            total += int(text) if text.isascii() and text.isdigit() else 0
        return total

    @property
    def votes_left(self) -> int:
        return self.limit - self.votes_given

    def payload(self, cleaned: Mapping[str, Any]) -> Payload | None:
        votes = {
            str(option.pk): str(cleaned[self.nominee_field(option)])
            for option in self.data.options
            if cleaned.get(self.nominee_field(option))
        }
        return {"cumulative": votes} if votes else None


# Each ballot form's part, by the form's name (poll.ballot_form.form_name).
PARTS: dict[str | None, type[ItemPart]] = {
    "proposal": ProposalPart,
    "election": ElectionPart,
    "frequency": OptionPart,
    "choice": OptionPart,
}


def part_for(form: MeetingBallotForm, data: BallotItem, shares: int) -> ItemPart:
    part = PARTS.get(data.item.ballot_form.form_name, UnknownPart)
    if part is ElectionPart and data.terms is not None and data.terms.cumulative:
        part = CumulativePart
    return part(form, data, shares)


class MeetingBallotForm(forms.Form):
    """A holder's ballot on every open item of a meeting, posted at once: each item's part
    (a proposal's for / against / abstain, an election's nominees, cumulative votes, an option).
    An item left blank is not voted; nothing chosen at all is an error. The `recommend` button
    of an election puts the board's recommendation on each of its nominees."""

    def __init__(self, *args: Any, items: list[BallotItem], shares: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = [data.item for data in items]
        self.item_errors: dict[int, list[str]] = {}
        self.parts = [part_for(self, data, shares) for data in items]
        for part in self.parts:
            part.add_fields()
        recommended = str(self.data.get("recommend", "")) if self.is_bound else ""
        if recommended:
            self.data = copy.copy(self.data)  # a QueryDict's copy is mutable
            for part in self.parts:
                if str(part.item.pk) == recommended:
                    part.recommend(self.data)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not self._payloads(cleaned):
            raise forms.ValidationError(_("Nothing is chosen: vote on at least one item."), code="empty")
        return cleaned

    def _payloads(self, cleaned: Mapping[str, Any]) -> dict[int, Payload]:
        payloads = {part.item.pk: part.payload(cleaned) for part in self.parts}
        return {item_id: payload for item_id, payload in payloads.items() if payload is not None}

    def choices(self) -> dict[int, Payload]:
        """What meeting_ballot_cast takes: each voted item's choice or payload."""
        return self._payloads(self.cleaned_data)

    def add_item_error(self, item_id: int, message: object) -> None:
        self.item_errors.setdefault(item_id, []).append(str(message))


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
    proxy_cutoff = forms.DateTimeField(
        label=_("Proxy voting stops at"),
        required=False,
        widget=DateTimeLocalInput(),
        help_text=_("Empty: 23:59 the day before the meeting. Holders vote their own shares until each item closes."),
    )


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
            "proxy_cutoff": meeting.proxy_cutoff,
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
