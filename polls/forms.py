from __future__ import annotations

from typing import Any

from django import forms

from polls.models import Option, Poll


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
