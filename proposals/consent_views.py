"""Pages for unanimous written consent: the secretary circulates a resolution from a proposal
in review; each director reads it and signs or refuses with their password (and code)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.http import acting_user
from core.roles import is_secretary
from proposals import consent, visibility
from proposals.models import ConsentOutcome, ConsentStatus, Proposal, WrittenConsent
from proposals.workflow import State


class ConsentForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Resolution"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20000,
        help_text=gettext_lazy("The text every director signs, e.g. “RESOLVED, that the Company invest …”."),
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("What it decides"), choices=ConsentOutcome.choices, widget=forms.RadioSelect
    )
    deadline = forms.DateTimeField(
        label=gettext_lazy("Deadline"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Unsigned by then, it fails."),
    )


class SignForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    otp = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@require_http_methods(["GET", "POST"])
@login_required
def consent_new(request: HttpRequest, proposal_id: int) -> HttpResponse:
    if not is_secretary(request.user):
        raise PermissionDenied(_("Only the company secretary circulates a written consent."))
    proposal = get_object_or_404(Proposal, pk=proposal_id)
    recused = consent.recused_directors(proposal)
    initial = {"deadline": timezone.localtime() + datetime.timedelta(days=consent.CONSENT_DAYS)}
    form = ConsentForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                created = consent.consent_create(
                    proposal_id=proposal.pk,
                    actor=acting_user(request),
                    **form.cleaned_data,
                )
            except DomainError as error:
                form.add_error(None, error.message)
                status = error.status_code
            else:
                messages.success(request, _("The written consent is sent to every director in office."))
                return redirect("proposals:consent", consent_id=created.pk)
    context: dict[str, Any] = {
        "proposal": proposal,
        "form": form,
        "recused": recused,
        "directors": consent.directors_in_office(),
        "in_review": proposal.status == State.IN_REVIEW,
    }
    return render(request, "proposals/consent_new.html", context, status=status)


def _visible(request: HttpRequest, consent_id: int) -> WrittenConsent:
    # Lazily failed at its deadline: a reader never sees an expired consent as open.
    found = consent.consent_settle(consent_id=consent_id)
    if found is None or not consent.can_see_consent(request.user, found):
        raise Http404
    return found


def _detail(request: HttpRequest, found: WrittenConsent, form: SignForm, status: int = 200) -> HttpResponse:
    user = request.user
    signature = consent.signature_of(user, found)
    context: dict[str, Any] = {
        "consent": found,
        "signatures": found.signatures.select_related("director__user"),
        "signature": signature,
        "can_sign": found.status == ConsentStatus.OPEN
        and signature is not None
        and not signature.response
        and signature.director.recused_from(found.proposal) is None,
        "needs_code": user.is_authenticated and consent.needs_code(user),
        "form": form,
        "decision_visible": visibility.can_see_board_decision(user, found.proposal),
    }
    return render(request, "proposals/consent_detail.html", context, status=status)


@never_cache
@require_http_methods(["GET"])
@login_required
def consent_detail(request: HttpRequest, consent_id: int) -> HttpResponse:
    return _detail(request, _visible(request, consent_id), SignForm())


@never_cache
@require_POST
@login_required
def consent_sign(request: HttpRequest, consent_id: int) -> HttpResponse:
    found = _visible(request, consent_id)
    form = SignForm(request.POST)
    refuse = request.POST.get("answer") == "refuse"
    if not form.is_valid():
        return _detail(request, found, form, status=400)
    try:
        consent.consent_sign(
            consent_id=found.pk,
            actor=acting_user(request),
            password=form.cleaned_data["password"],
            otp=form.cleaned_data["otp"],
            refuse=refuse,
            request=request,
        )
    except DomainError as error:
        form.add_error(None, error.message)
        found.refresh_from_db()
        return _detail(request, found, form, status=error.status_code)
    messages.success(request, _("You refused to sign; the consent fails.") if refuse else _("You signed."))
    return redirect("proposals:consent", consent_id=found.pk)


@require_http_methods(["GET"])
@login_required
def consent_list(request: HttpRequest) -> HttpResponse:
    if not (is_secretary(request.user) or visibility.director_of(request.user) is not None):
        raise PermissionDenied(_("Written consents are the board's."))
    consent.consents_settle()
    consents = consent.consents_visible_to(request.user)[:100]
    in_review = Proposal.objects.filter(status=State.IN_REVIEW).order_by("review_due_at", "pk")
    context = {"consents": consents, "in_review": in_review if is_secretary(request.user) else []}
    return render(request, "proposals/consent_list.html", context)
