"""The board's recommendation on an item, entered in the console before the item opens."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.errors import DomainError
from core.http import acting_user
from meetings.recommendation_forms import RecommendationForm
from meetings.recommendations import recommendation_apply
from polls.models import Poll
from proposals.console import _form_page, _posted, secretary_only


@require_http_methods(["GET", "POST"])
@secretary_only
def recommendation_edit(request: HttpRequest, poll_id: int) -> HttpResponse:
    item = get_object_or_404(Poll.objects.filter(meeting__isnull=False), pk=poll_id)
    form = RecommendationForm(_posted(request), poll=item)
    if request.method == "POST" and form.is_valid():
        try:
            recommendation_apply(poll=item, actor=acting_user(request), given=form.given())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The board's recommendation on “%(title)s” is saved.") % {"title": item.title})
            return redirect("console:meeting", meeting_id=item.meeting_id)
    title = _("The board's recommendation: %(title)s") % {"title": item.title}
    lead = _("Shown on the ballot and the proxy form; directed proxies told to follow the board vote it.")
    return _form_page(request, form, title=title, submit=_("Save"), lead=lead)
