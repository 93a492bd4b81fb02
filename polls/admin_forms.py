"""The admin's forms for polls and meetings. An edit of an existing poll or meeting goes
through the services while the form is checked, so a refusal (voting has begun, a bad
fraction) is a form error rather than a 500, and the change is on the trail like any other.
The admin's change view runs in one transaction: a later failure undoes the write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet

from core.errors import DomainError
from polls import kinds, services
from polls.models import Poll


class OptionFormSet(BaseInlineFormSet):
    """Public polls list their own 2 to 20 options; shareholder items get for, against and
    abstain by themselves."""

    def clean(self) -> None:
        super().clean()
        if self.instance.pk is not None and self.instance.effective_status() not in services.EDITABLE_STATUSES:
            return
        kept = [form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        labels = [form.cleaned_data.get("label") or "" for form in kept]
        try:  # the ballot form's own check (a public poll's is poll_create's)
            _ballot_form(self.instance.kind).options_check(labels=labels, creating=self.instance.pk is None)
        except DomainError as error:
            raise ValidationError(error.message) from error


ITEM_RULE_DEFAULTS = {"threshold_numerator": 1, "threshold_denominator": 2, "threshold_comparator": ">"}
POLL_FORM_FIELDS = [
    "title",
    "description",
    "kind",
    "opens_at",
    "closes_at",
    "allow_change",
    "results_visibility",
    "secret",
    "meeting",
    "standard",
    *ITEM_RULE_DEFAULTS,
    "advisory",
]
# Where the form shows a problem the ballot form's terms_problems names by its own field.
TERM_FIELDS = {"threshold": "threshold_numerator"}
# What `poll_update` edits; an item's rules go through `item_rules_update`.
POLL_UPDATE_FIELDS = ("title", "description", "opens_at", "closes_at", "allow_change", "results_visibility", "secret")


def _ballot_form(kind: str | None) -> kinds.BallotForm:
    """The form of the kind chosen, or the model's default kind's when none is (yet) valid."""
    return kinds.form_for(kind or str(Poll._meta.get_field("kind").default))


def _rules_changed(data: dict[str, Any], changed: set[str]) -> dict[str, Any]:
    """The rules deciding the poll (`rules_update`'s) that the form changed."""
    rules: dict[str, Any] = {}
    if "standard" in changed:
        rules["standard"] = data["standard"]
    if changed & {"threshold_numerator", "threshold_denominator"}:
        rules["threshold"] = f"{data['threshold_numerator']}/{data['threshold_denominator']}"
    if "threshold_comparator" in changed:
        rules["comparator"] = data["threshold_comparator"]
    if "advisory" in changed:
        rules["advisory"] = data["advisory"]
    return rules


class PollAdminForm(forms.ModelForm):
    actor: Any = None  # set per request by PollAdmin.get_form

    class Meta:
        model = Poll
        fields = POLL_FORM_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A public poll has no threshold; the fields matter only for shareholder items.
        for name in ITEM_RULE_DEFAULTS:
            if name in self.fields:
                self.fields[name].required = False
        # New public polls are secret unless the secretary unticks it (as in the services).
        if self.instance.pk is None and "secret" in self.fields:
            self.fields["secret"].initial = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "standard" not in self.fields:
            return data  # voting has begun: every field is read-only, nothing is saved
        # Kind and meeting are read-only on an existing poll: they are the instance's.
        form = _ballot_form(data.get("kind") if "kind" in self.fields else self.instance.kind)
        if "meeting" not in self.fields:
            data["meeting"] = self.instance.meeting
        if not form.may_be_secret:
            data["secret"] = False  # e.g. a shareholder vote is public: the box does not apply
        if not form.decided_by_standard:
            # No standard nor threshold decides it: what the form holds for them is unused.
            data.update(standard="", **ITEM_RULE_DEFAULTS)
        for name, default in ITEM_RULE_DEFAULTS.items():
            if data.get(name) in (None, ""):
                data[name] = default
        self._check_terms(form, data)
        if self.instance.pk is not None and not self.errors:
            self._update_through_services(data)
        return data

    def _check_terms(self, form: kinds.BallotForm, data: dict[str, Any]) -> None:
        """The services' own rules for a poll's terms (the ballot form's terms_problems),
        each shown on its field."""
        problems = form.terms_problems(
            meeting=data.get("meeting"),
            opens_at=data.get("opens_at"),
            closes_at=data.get("closes_at"),
            standard=data.get("standard") or "",
            threshold=f"{data['threshold_numerator']}/{data['threshold_denominator']}",
            comparator=data["threshold_comparator"],
        )
        for name, message in problems.items():
            field = TERM_FIELDS.get(name, name)
            self.add_error(field if field in self.fields else None, message)

    def _update_through_services(self, data: dict[str, Any]) -> None:
        changed = set(self.changed_data)
        edits = {name: data[name] for name in POLL_UPDATE_FIELDS if name in changed and name in data}
        form = kinds.form_of(self.instance)
        if not form.may_be_secret:
            edits.pop("secret", None)  # e.g. a shareholder vote is public; the box does not apply
        rules = _rules_changed(data, changed) if form.decided_by_standard else {}
        if not edits and not rules:
            return
        try:
            with transaction.atomic():  # both or neither
                if rules:
                    form.rules_update(poll=self.instance, actor=self.actor, **rules)
                if edits:
                    services.poll_update(poll=self.instance, actor=self.actor, **edits)
        except DomainError as error:
            raise ValidationError(error.message) from error
