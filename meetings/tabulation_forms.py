"""The inspector's tabulation of an election, frequency or choice item as a form: one number per
nominee and choice (For/Against/Abstain under majority voting, For/Withhold under plurality) or
per option, with broker non-votes and the source. The console and the admin both show it and
record through the item's ballot form (its tabulate, meetings.ballot_services'
lines_tabulation_record), as the API does, so the three paths take the same figures."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.forms import BoundField
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from meetings import ballot_rules
from meetings.ballot_forms import LineItem
from meetings.ballot_rules import ElectionStandard, LineChoice
from meetings.ballot_services import NO_LINE_FIGURES
from meetings.models import Tabulation
from polls import kinds
from polls.models import Option, Poll

MAX_FIGURE = 10**18 - 1

CHOICE_WORDS = {
    LineChoice.FOR: _("For"),
    LineChoice.AGAINST: _("Against"),
    LineChoice.ABSTAIN: _("Abstain"),
    LineChoice.WITHHOLD: _("Withhold"),
}


def line_form_of(poll: Poll) -> LineItem | None:
    """The item's ballot form when its tabulation is per nominee or option, else None (a
    proposal's is three numbers, meetings.forms.TabulationForm)."""
    form = kinds.form_of(poll)
    return form if isinstance(form, LineItem) else None


def takes_lines(poll: Poll) -> bool:
    return line_form_of(poll) is not None


def _field_name(option_id: int, choice: str) -> str:
    return f"line_{option_id}_{choice}"


class LinesTabulationForm(forms.Form):
    """One whole, non-negative number per nominee and choice or per option; a blank one is not
    tabulated (it reads as 0), and at least one must be given. The figures already recorded are
    the initial values."""

    broker_non_votes = forms.IntegerField(
        label=_("Broker non-votes"), min_value=0, max_value=MAX_FIGURE, initial=0, required=False
    )
    source = forms.CharField(
        label=_("Source"), max_length=255, required=False, help_text=_("Where the figures come from.")
    )

    def __init__(self, data: Any = None, *, poll: Poll, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        ballot_form = line_form_of(poll)
        if ballot_form is None:
            raise ValueError(f"poll {poll.pk} is not tabulated per nominee or option")
        self.poll = poll
        self.ballot_form = ballot_form
        terms = ballot_form.terms(poll)
        standard = ElectionStandard(terms.election_standard) if terms.election_standard else None
        self.choices = ballot_rules.allowed_choices(standard)
        self.targets = list(Option.objects.filter(poll_id=poll.pk).order_by("position", "pk"))
        self._add_line_fields(ballot_form.tabulated(poll))

    def _add_line_fields(self, stored: tuple[dict[tuple[int, str], int], Tabulation] | None) -> None:
        recorded = stored[0] if stored else {}
        if stored is not None:
            self.fields["broker_non_votes"].initial = stored[1].broker_non_votes
            self.fields["source"].initial = stored[1].source
        names = []
        for option in self.targets:
            label = self.ballot_form.option_label(option.label)
            for choice in self.choices:
                name = _field_name(option.pk, choice)
                self.fields[name] = forms.IntegerField(
                    label=f"{label}: {CHOICE_WORDS[choice]}" if self.ballot_form.has_nominees else label,
                    required=False,
                    min_value=0,
                    max_value=MAX_FIGURE,
                    initial=recorded.get((option.pk, choice)),
                )
                names.append(name)
        self.order_fields([*names, "broker_non_votes", "source"])

    @property
    def target_heading(self) -> str:
        return str(_("Nominee") if self.ballot_form.has_nominees else _("Option"))

    @property
    def columns(self) -> list[str]:
        if not self.ballot_form.has_nominees:
            return [str(_("Shares"))]
        return [str(CHOICE_WORDS[choice]) for choice in self.choices]

    @property
    def rows(self) -> list[tuple[str, list[BoundField]]]:
        """Each nominee or option with its inputs, one per column."""
        return [
            (
                self.ballot_form.option_label(option.label),
                [self[_field_name(option.pk, choice)] for choice in self.choices],
            )
            for option in self.targets
        ]

    @property
    def other_fields(self) -> list[BoundField]:
        return [self["broker_non_votes"], self["source"]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Broker non-votes are shown as 0 and so always sent: only a nominee's or option's
        # figure tells a tabulation from the page sent as it came.
        if not self.errors and not self._lines(data):
            raise ValidationError(NO_LINE_FIGURES)
        return data

    def _lines(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"option": option.pk, "choice": str(choice), "shares": data[_field_name(option.pk, choice)]}
            for option in self.targets
            for choice in self.choices
            if data.get(_field_name(option.pk, choice)) is not None
        ]

    def figures(self) -> dict[str, Any]:
        """The checked figures in the API's shape: lines, broker non-votes, source."""
        data = self.cleaned_data
        return {
            "lines": self._lines(data),
            "broker_non_votes": data.get("broker_non_votes") or 0,
            "source": data.get("source") or "",
        }

    def record(self, *, actor: User) -> Tabulation | None:
        """Record the figures through the item's ballot form; a refusal (not closed yet,
        certified, a figure the item does not take) becomes the form's error."""
        try:
            self.ballot_form.tabulate(poll=self.poll, actor=actor, **self.figures())
        except DomainError as error:
            self.add_error(None, error.message)
            return None
        return Tabulation.objects.get(poll_id=self.poll.pk)
