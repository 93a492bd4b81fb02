"""The meeting page's check-in: a holder (or their proxy) marks themselves present without
voting; the secretary records a holder present in person. The service decides who may."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.http import acting_user
from meetings.attendance import attendance_check_in
from meetings.models import Meeting


@require_POST
@login_required
def meeting_check_in(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.select_related("register"), pk=meeting_id)
    holder = request.POST.get("holder", "")
    target = reverse("meetings:meeting", kwargs={"meeting_id": meeting.pk})
    if not holder.isascii() or not holder.isdigit() or len(holder) > 18:
        messages.error(request, _("Choose the holder to check in."))
        return redirect(target)
    try:
        row = attendance_check_in(meeting=meeting, holder_id=int(holder), actor=acting_user(request))
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect(target)
    messages.success(request, _("%(name)s is present at the meeting.") % {"name": row.holder.name})
    return redirect(f"{target}?holder={row.holder_id}")
