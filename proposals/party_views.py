"""The secretary lifts a recusal from the proposal's page, with a reason."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.http import acting_user
from core.roles import is_secretary
from proposals import party_services
from proposals.models import Recusal


class RecusalLiftForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=1000, strip=True)


@require_POST
@login_required
def recusal_lift(request: HttpRequest, recusal_id: int) -> HttpResponse:
    if not is_secretary(request.user):
        raise PermissionDenied(_("Only the company secretary may lift a recusal."))
    recusal = get_object_or_404(Recusal, pk=recusal_id)
    form = RecusalLiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for lifting the recusal."))
    else:
        try:
            party_services.recusal_lift(
                recusal_id=recusal.pk,
                reason=form.cleaned_data["reason"],
                actor=acting_user(request),
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The recusal is lifted; the reason is on the trail."))
    return redirect("proposals:detail", proposal_id=recusal.proposal_id)
