from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from polls.models import Choice, Holder, Option, Poll


class VoteForm(forms.Form):
    option = forms.ModelChoiceField(
        queryset=Option.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        label="Your choice",
        error_messages={
            "required": "Choose one of the options.",
            "invalid_choice": "That option is not part of this poll.",
        },
    )

    def __init__(self, *args: Any, poll: Poll, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["option"].queryset = poll.options.all()  # type: ignore[attr-defined]


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
                error_messages={"invalid_choice": "Choose for, against or abstain."},
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
    holder = forms.ModelChoiceField(queryset=Holder.objects.none(), empty_label=None, label="Holder")
    proxy = forms.CharField(max_length=150, label="Proxy's username")

    def __init__(self, *args: Any, holders: list[Holder], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = Holder.objects.filter(pk__in=[h.pk for h in holders])  # type: ignore[attr-defined]

    def clean_proxy(self) -> Any:
        username = self.cleaned_data["proxy"].strip()
        proxy = get_user_model().objects.filter(username=username, is_active=True).first()
        if proxy is None:
            raise forms.ValidationError(f"No active account is named {username!r}.")
        return proxy
