"""The console's form for the board's recommendation on one item, shaped by its ballot form: a
proposal's word, a choice per nominee of an election, or the option of a frequency or choice
item. What it gathers goes to meetings.recommendations.recommendation_apply, as the API's does."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from meetings.ballot_models import ItemTerms, NomineeTally
from meetings.forms import RECOMMENDATION_LABELS
from meetings.recommendations import RECOMMENDATIONS, nominee_choices
from polls import kinds
from polls.models import Option, Poll

NO_RECOMMENDATION = _("No recommendation")


def _label(said: str) -> Any:
    return RECOMMENDATION_LABELS.get(said, NO_RECOMMENDATION)


class RecommendationForm(forms.Form):
    def __init__(self, data: Any = None, *, poll: Poll) -> None:
        super().__init__(data)
        self.poll = poll
        form = kinds.form_of(poll)
        terms = ItemTerms.objects.filter(poll=poll).first()
        if form.decided_by_standard:
            self.shape = "recommendation"
            self.fields["recommendation"] = forms.ChoiceField(
                label=_("The board recommends"),
                choices=[(said, _label(said)) for said in RECOMMENDATIONS],
                initial=terms.recommendation if terms is not None else "none",
            )
        elif getattr(form, "has_nominees", False):
            self.shape = "nominees"
            choices = [(said, _label(said)) for said in nominee_choices(terms)]
            for tally in (
                NomineeTally.objects.filter(option__poll=poll).select_related("option").order_by("option__position")
            ):
                self.fields[f"nominee-{tally.option_id}"] = forms.ChoiceField(
                    label=tally.option.label, choices=choices, initial=tally.recommendation
                )
        else:
            self.shape = "option"
            options = Option.objects.filter(poll=poll).order_by("position")
            self.fields["option"] = forms.ChoiceField(
                label=_("The board recommends"),
                choices=[("", NO_RECOMMENDATION), *((str(option.pk), option.label) for option in options)],
                required=False,
                initial=str(terms.recommended_option_id or "") if terms is not None else "",
            )

    def given(self) -> dict[str, Any]:
        """The recommendation in the shape recommendation_apply takes."""
        data = self.cleaned_data
        if self.shape == "recommendation":
            return {"recommendation": data["recommendation"]}
        if self.shape == "nominees":
            prefix = "nominee-"
            return {"nominees": {int(name[len(prefix) :]): said for name, said in data.items()}}
        return {"option": int(data["option"]) if data["option"] else None}
