"""The forms of proxies: a holder appoints one with instructions item by item (the meeting's
page), and a proxy votes every holder it represents at once (meetings/proxy_views.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from meetings.ballot_selectors import BallotItem
from meetings.forms import RECOMMENDATION_LABELS, MeetingBallotForm
from meetings.models import Holder
from meetings.proxy_rules import OPTION_INSTRUCTIONS
from meetings.proxy_selectors import ProxyDesk
from polls.models import Choice

INSTRUCTION_LABELS = {
    "": pgettext_lazy("proxy instruction", "No instruction"),
    "for": pgettext_lazy("proxy instruction", "For"),
    "against": pgettext_lazy("proxy instruction", "Against"),
    "abstain": pgettext_lazy("proxy instruction", "Abstain"),
    "recommendation": pgettext_lazy("proxy instruction", "With the board's recommendation"),
}


def takes_any_instruction(data: BallotItem) -> bool:
    """A proposal or an election takes every instruction; an item choosing among options only
    abstain or the recommendation (meetings.proxy_instructions)."""
    form = data.item.ballot_form
    return bool(form.decided_by_standard or getattr(form, "has_nominees", False))


def recommendation_text(data: BallotItem) -> str:
    """The board's recommendation on an item in the reader's words ("" when it gives none)."""
    form = data.item.ballot_form
    terms = data.terms
    if form.decided_by_standard:
        return str(RECOMMENDATION_LABELS.get(terms.recommendation, "")) if terms is not None else ""
    if getattr(form, "has_nominees", False):
        said = []
        for option in data.options:
            tally = getattr(option, "tally", None)
            label = RECOMMENDATION_LABELS.get(tally.recommendation, "") if tally is not None else ""
            if label:
                said.append(f"{option.label}: {label}")
        return "; ".join(said)
    chosen = terms.recommended_option if terms is not None else None
    return str(form.option_label(chosen.label)) if chosen is not None else ""


class ProxyForm(forms.Form):
    """A holder names a proxy (username or e-mail address) with an instruction on each item
    still to be voted, and says whether the proxy may vote the others as it sees fit."""

    holder = forms.ModelChoiceField(queryset=Holder.objects.none(), empty_label=None, label=_("Holder"))
    # Looked up by the service, which answers alike whether or not an account matches.
    proxy = forms.CharField(max_length=254, label=_("Proxy's username or e-mail address"))
    # Unticked (and absent, as in a form posted before instructions existed): full discretion.
    limited = forms.BooleanField(
        required=False,
        label=_("Limit the proxy to the items I instruct (otherwise it votes the others as it sees fit)"),
    )

    def __init__(self, *args: Any, holders: list[Holder], items: list[BallotItem] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = Holder.objects.filter(pk__in=[h.pk for h in holders])  # type: ignore[attr-defined]
        self.rows: list[tuple[BallotItem, str, str]] = []  # item, field name, the board's word
        for data in items or []:
            name = f"instruction-{data.item.pk}"
            allowed = INSTRUCTION_LABELS if takes_any_instruction(data) else ("", *OPTION_INSTRUCTIONS)
            self.fields[name] = forms.ChoiceField(
                label=data.item.title,
                required=False,
                choices=[(value, INSTRUCTION_LABELS[value]) for value in allowed],
            )
            self.rows.append((data, name, recommendation_text(data)))

    @property
    def instruction_rows(self) -> list[tuple[BallotItem, forms.BoundField, str]]:
        return [(data, self[name], said) for data, name, said in self.rows]

    @property
    def discretionary(self) -> bool:
        return not self.cleaned_data.get("limited")

    def instructions(self) -> dict[int, str]:
        return {data.item.pk: self.cleaned_data[name] for data, name, _said in self.rows if self.cleaned_data.get(name)}


class CommonChoicesForm(MeetingBallotForm):
    """The choices a proxy gives every holder it votes: the meeting ballot's parts, where
    nothing chosen is no error (the holders' instructions may be all there is to cast)."""

    def clean(self) -> dict[str, Any]:
        return forms.Form.clean(self) or {}


SKIP = "skip"


class HolderRow:
    """One holder on the proxy's page: whether it is voted, and its exceptions item by item."""

    def __init__(self, form: ProxyDeskForm, row: Any) -> None:
        self.form, self.row, self.holder = form, row, row.holder
        self.include = form[f"holder-{self.holder.pk}"]
        self.exceptions = [form[form.exception_name(self.holder.pk, data.item.pk)] for data in form.desk_items]
        self.instructions = [
            (data.item, INSTRUCTION_LABELS[row.instructions[data.item.pk]])
            for data in form.desk_items
            if data.item.pk in row.instructions
        ]
        self.own_votes = [data.item for data in form.desk_items if data.item.pk in row.own_votes]


class ProxyDeskForm(forms.Form):
    """Which holders to vote, and per holder an exception on any item: another choice, or
    leave the item out. An election's nominee-by-nominee exception is voted on the holder's own
    ballot (the meeting's page); a cumulative election, holder by holder there too."""

    def __init__(self, *args: Any, desk: ProxyDesk, items: list[BallotItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desk, self.desk_items = desk, items
        for row in desk.holders:
            self.fields[f"holder-{row.holder.pk}"] = forms.BooleanField(
                required=False, initial=True, label=row.holder.name
            )
            for data in items:
                self.fields[self.exception_name(row.holder.pk, data.item.pk)] = forms.ChoiceField(
                    label=data.item.title, required=False, choices=self._choices(data)
                )
        self.rows = [HolderRow(self, row) for row in desk.holders]

    @staticmethod
    def exception_name(holder_id: int, item_id: int) -> str:
        return f"exception-{holder_id}-{item_id}"

    @staticmethod
    def _choices(data: BallotItem) -> list[tuple[str, Any]]:
        same = [("", _("As above")), (SKIP, _("Leave this item out"))]
        form = data.item.ballot_form
        if form.decided_by_standard:
            return same + [(choice.value, choice.label) for choice in Choice]
        if getattr(form, "has_nominees", False):
            return same
        return same + [(str(option.pk), form.option_label(option.label)) for option in data.options]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.desk.holders and not any(cleaned.get(f"holder-{row.holder.pk}") for row in self.desk.holders):
            raise forms.ValidationError(_("Choose at least one holder to vote for."), code="no_holder")
        return cleaned

    def holders(self) -> list[int]:
        return [row.holder.pk for row in self.desk.holders if self.cleaned_data.get(f"holder-{row.holder.pk}")]

    def exceptions(self) -> dict[int, dict[int, Any]]:
        """{holder id: {item id: a choice, an option's ballot, or None to leave it out}}."""
        found: dict[int, dict[int, Any]] = {}
        for row in self.desk.holders:
            for data in self.desk_items:
                value = self.cleaned_data.get(self.exception_name(row.holder.pk, data.item.pk))
                if value:
                    found.setdefault(row.holder.pk, {})[data.item.pk] = _exception_payload(data, value)
        return found


def _exception_payload(data: BallotItem, value: str) -> Any:
    if value == SKIP:
        return None
    if data.item.ballot_form.decided_by_standard:
        return value
    return {"option": int(value)}
