from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.validators import no_bidi_overrides
from meetings.models import Meeting
from polls import kinds
from polls.models import Comparator, Poll, PollStatus, VoteStandard
from polls.standards import FRACTION_PATTERN
from proposals.models import COMMENT_MAX_CHARS, DECISION_CHOICES, PROPOSAL_TEXT_FIELDS, Proposal


class ProposalForm(forms.ModelForm):
    polls = forms.ModelMultipleChoiceField(
        queryset=Poll.objects.none(),  # set per form, once every ballot form has registered
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Polls as evidence"),
    )

    class Meta:
        model = Proposal
        fields = [*PROPOSAL_TEXT_FIELDS, "polls"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 3}), "body": forms.Textarea(attrs={"rows": 8})}
        labels = {
            "title": _("Title"),
            "summary": _("Summary"),
            "body": _("Full text"),
            "kind": _("Kind"),
            "counterparty": _("Counterparty"),
            "amount": _("Amount"),
            "currency": _("Currency"),
            "needs_shareholder_vote": _("Needs a shareholder vote"),
            "advisory": _("Advisory"),
        }
        help_texts = {
            "currency": _("ISO 4217, e.g. USD."),
            "counterparty": _("Who the proposal deals with, e.g. “xAI”."),
            "advisory": _("A shareholder vote on it advises the board."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Evidence is a poll listed among the public polls, once it is no longer a draft.
        listed = Poll.objects.filter(kind__in=kinds.kinds_where(lambda form: form.listed))
        self.fields["polls"].queryset = listed.exclude(status=PollStatus.DRAFT)  # type: ignore[attr-defined]


class TransitionForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput)
    comment = forms.CharField(
        required=False, max_length=COMMENT_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 2}), label=_("Comment")
    )
    due_at = forms.DateTimeField(
        required=False, label=_("Review due"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    meeting = forms.ModelChoiceField(queryset=Meeting.objects.all(), required=False)
    standard = forms.ChoiceField(choices=VoteStandard.choices, initial=VoteStandard.VOTES_CAST, required=False)
    threshold = forms.RegexField(regex=FRACTION_PATTERN, initial="1/2", required=False)
    comparator = forms.ChoiceField(choices=Comparator.choices, initial=Comparator.GT, required=False)

    def service_arguments(self) -> dict[str, Any]:
        data = {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}
        data.setdefault("comment", "")
        return data


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=DECISION_CHOICES, widget=forms.RadioSelect, label=_("Your decision"))
    comment = forms.CharField(required=False, max_length=COMMENT_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 3}))


class CommentForm(forms.Form):
    body = forms.CharField(
        max_length=COMMENT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Comment"),
        validators=[no_bidi_overrides],
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(help_text=_("PDF, PNG, JPEG or plain text, at most 10 MB."))
