"""Pages: an account claims a holding by control number; the secretary downloads a register's
mailing file from the console. Both call polls/holdings.py, as the API does."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import DomainError
from core.http import acting_user
from core.roles import is_secretary
from meetings import holdings
from meetings.api.holdings import mailing_response
from meetings.models import RegisterSnapshot


class ClaimForm(forms.Form):
    control_number = forms.CharField(
        label=_("Control number"),
        max_length=64,
        help_text=_("The 16 digits printed on the notice you received; spaces are optional."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false", "class": "control-number"}
        ),
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def holding_claim(request: HttpRequest) -> HttpResponse:
    form = ClaimForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                holder = holdings.holding_claim(
                    actor=acting_user(request),
                    control_number=form.cleaned_data["control_number"],
                )
            except DomainError as error:
                form.add_error("control_number", error.message)
                status = error.status_code
            else:
                messages.success(
                    request,
                    _("The holding of %(name)s is now linked to your account.") % {"name": holder.name},
                )
                return redirect("home")
        else:
            status = 400
    return render(request, "meetings/claim.html", {"form": form}, status=status)


@never_cache
@login_required
@require_GET
def register_mailing(request: HttpRequest, register_id: int) -> HttpResponse:
    if not is_secretary(request.user):
        raise PermissionDenied(_("Only the company secretary may do this."))
    register = get_object_or_404(RegisterSnapshot, pk=register_id)
    content = holdings.mailing_read(register=register, actor=acting_user(request))
    if content is None:
        raise Http404("No mailing file for this register.")
    return mailing_response(register, content)
