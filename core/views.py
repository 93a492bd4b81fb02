"""Account pages: two-factor enrolment and verification, password change and reset."""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import qrcode
import qrcode.image.svg
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.forms import CodeForm
from core.mfa import mfa_enrolled

RECOVERY_CODES = 10


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _qr_svg(url: str) -> SafeString:
    """The provisioning URL as an inline SVG: no image service sees the secret, no script or
    style attribute is needed to show it."""
    svg = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2).to_string(encoding="unicode")
    rest = svg.split(" version=", 1)[1]
    label = escape(_("QR code of the two-factor secret"))
    return mark_safe(f'<svg class="qr" role="img" aria-label="{label}" version={rest}')  # noqa: S308 - our own SVG


@never_cache
@login_required
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """Prove a second factor for this session: a code from the app, or a recovery code (once)."""
    if not mfa_enrolled(request.user):
        return redirect(f"{reverse('mfa-enrol')}?{request.GET.urlencode()}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return HttpResponseRedirect(_next(request))
        form.add_error("code", _("That code is not valid. Try the current one, or a recovery code."))
    return render(request, "registration/2fa_verify.html", {"form": form, "next": _next(request)})


@never_cache
@login_required
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app. Only for an account with no confirmed device yet: replacing
    a device is for the admin, or a password alone would be enough to take the second factor."""
    user = request.user
    if mfa_enrolled(user):
        return redirect(f"{reverse('mfa')}?{request.GET.urlencode()}")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            codes = _enrol_confirm(device)
            otp_login(request, device)
            return render(request, "registration/2fa_recovery_codes.html", {"codes": codes, "next": _next(request)})
        form.add_error("code", _("That code is not valid. Check the time on your phone and try the current one."))
    secret = b32encode(device.bin_key).decode()
    context: dict[str, Any] = {
        "form": form,
        "next": _next(request),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr": _qr_svg(device.config_url),
    }
    return render(request, "registration/2fa_enrol.html", context)


@transaction.atomic
def _enrol_confirm(device: TOTPDevice) -> list[str]:
    """Confirm the app and issue fresh recovery codes, shown once and stored as given."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=device.user).delete()
    recovery = StaticDevice.objects.create(user=device.user, name=_("Recovery codes"), confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=code) for code in codes])
    return codes


class PasswordResetView(auth_views.PasswordResetView):
    """Django's view; the link in the e-mail starts with SITE_URL, as every e-mail of the site."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view; a reset proved by e-mail also lifts a lockout of the account."""

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        axes_reset(username=form.user.get_username())
        return response
