from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from core.http import acting_user
from core.roles import is_secretary
from proposals import board, materials, selectors, services, visibility
from proposals.forms import AttachmentForm, CommentForm, ProposalForm, TransitionForm
from proposals.models import Attachment, AttachmentVisibility, Proposal
from proposals.permissions import can_edit_proposal, director_of
from proposals.review import forced_verdict
from proposals.workflow import Action, State


def _visible(request: HttpRequest, proposal_id: int) -> Proposal:
    proposal = get_object_or_404(Proposal.objects.select_related("proposer", "item"), pk=proposal_id)
    if not visibility.can_see_proposal(request.user, proposal):
        raise Http404("No such proposal.")
    return proposal


@require_GET
def proposal_list(request: HttpRequest) -> HttpResponse:
    proposals = selectors.proposals_visible_to(request.user)
    mine = proposals.filter(proposer_id=request.user.pk) if request.user.is_authenticated else proposals.none()
    context = {
        "proposals": proposals.exclude(pk__in=mine.values("pk"))[:100],
        "mine": list(mine),
        "review_queue": selectors.review_queue(request.user),
        "secretary_queue": selectors.secretary_queue() if is_secretary(request.user) else None,
    }
    return render(request, "proposals/proposal_list.html", context)


@login_required
def proposal_new(request: HttpRequest) -> HttpResponse:
    form = ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            proposal = services.proposal_create(actor=acting_user(request), **data)
            if "submit" in request.POST:
                services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=acting_user(request))
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Proposal submitted.") if "submit" in request.POST else _("Draft saved."))
            return redirect("proposals:detail", proposal_id=proposal.pk)
    return render(request, "proposals/proposal_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def proposal_edit(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _visible(request, proposal_id)
    if not can_edit_proposal(request.user, proposal):
        raise PermissionDenied("Only the proposer may edit, and only in draft or returned.")
    form = ProposalForm(request.POST or None, instance=proposal)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        polls = data.pop("polls")
        try:
            services.proposal_update(proposal=proposal, actor=acting_user(request), polls=polls, **data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Proposal saved."))
            return redirect("proposals:detail", proposal_id=proposal.pk)
    context = {"form": form, "proposal": proposal}
    return render(request, "proposals/proposal_form.html", context, status=400 if form.errors else 200)


def _detail_context(request: HttpRequest, proposal: Proposal, **forms: Any) -> dict[str, Any]:
    actions = selectors.actions_for(request.user, proposal)
    return {
        "proposal": proposal,
        "actions": actions,
        "transition_forms": {
            action: forms.get(action) or TransitionForm(initial={"action": action}) for action in actions
        },
        "can_edit": can_edit_proposal(request.user, proposal),
        "comment_form": forms.get("comment") or CommentForm(),
        "attachment_form": forms.get("attachment") or AttachmentForm(),
        "is_director": director_of(request.user) is not None,
        **_decide_context(proposal, actions),
        **_what_the_reader_sees(request, proposal),
    }


def _decide_context(proposal: Proposal, actions: list[str]) -> dict[str, Any]:
    """The secretary's decide is offered only when it can succeed: from the due date, and not
    on a tie (which asks for a return or a new due date); before, the page says from when."""
    if Action.DECIDE not in actions or proposal.status != State.IN_REVIEW:
        return {"decide_from": None, "decide_tied": None}
    decide_from = board.decide_possible_at(proposal)
    tied = None if decide_from else forced_verdict(selectors.review_tally(proposal)).tied or None
    return {"decide_from": decide_from, "decide_tied": tied}


def _what_the_reader_sees(request: HttpRequest, proposal: Proposal) -> dict[str, Any]:
    """Every part of the page that is not for everyone, each asked of the visibility rule."""
    user = request.user
    deliberation = visibility.can_see_deliberation(user, proposal)
    decision = visibility.can_see_board_decision(user, proposal)
    return {
        "deliberation": deliberation,
        "board": selectors.review_board(proposal) if deliberation else [],
        "tally": selectors.review_tally(proposal) if deliberation else None,
        "recused_for": visibility.reader_recusal(user, proposal),
        "board_decision": selectors.board_decision(proposal) if decision else None,
        "timeline": visibility.events_visible_to(user, proposal),
        "comments": visibility.comments_visible_to(user, proposal),
        "attachments": visibility.attachments_visible_to(user, proposal),
        "can_comment": visibility.can_comment(user, proposal),
        "comments_public": visibility.public_since(proposal) is not None,
        "can_attach": visibility.can_attach(user, proposal),
        "can_set_visibility": visibility.can_set_attachment_visibility(user),
        "visibility_choices": AttachmentVisibility.choices,
    }


@require_GET
def proposal_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _visible(request, proposal_id)
    return render(request, "proposals/proposal_detail.html", _detail_context(request, proposal))


@require_POST
@login_required
def proposal_transition(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _visible(request, proposal_id)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            services.proposal_transition(
                proposal_id=proposal.pk, actor=acting_user(request), **form.service_arguments()
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            proposal.refresh_from_db()
            messages.success(
                request, _("Done: the proposal is now %(status)s.") % {"status": proposal.get_status_display().lower()}
            )
            return redirect("proposals:detail", proposal_id=proposal.pk)
    action = request.POST.get("action", "")
    context = _detail_context(request, proposal, **{action: form})
    if action not in context["transition_forms"]:
        messages.error(
            request, " ".join(str(e) for e in form.non_field_errors()) or _("That action is not possible now.")
        )
        return redirect("proposals:detail", proposal_id=proposal.pk)
    return render(request, "proposals/proposal_detail.html", context, status=400)


@require_POST
@login_required
def proposal_comment(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _visible(request, proposal_id)
    if not visibility.can_comment(request.user, proposal):
        raise PermissionDenied("You may not comment on this proposal.")
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            materials.comment_add(proposal=proposal, actor=acting_user(request), body=form.cleaned_data["body"])
        except DomainError as error:
            form.add_error("body", error.message)
        else:
            messages.success(request, _("Comment added."))
            return redirect("proposals:detail", proposal_id=proposal.pk)
    return render(
        request, "proposals/proposal_detail.html", _detail_context(request, proposal, comment=form), status=400
    )


@require_POST
@login_required
def proposal_attach(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _visible(request, proposal_id)
    if not visibility.can_attach(request.user, proposal):
        raise PermissionDenied("You may not attach files to this proposal.")
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            materials.attachment_add(proposal=proposal, actor=acting_user(request), upload=form.cleaned_data["file"])
        except DomainError as error:
            form.add_error("file", error.message)
        else:
            messages.success(request, _("File attached."))
            return redirect("proposals:detail", proposal_id=proposal.pk)
    return render(
        request, "proposals/proposal_detail.html", _detail_context(request, proposal, attachment=form), status=400
    )


@require_GET
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = _visible_attachment(request, attachment_id)
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)
    response["Content-Type"] = attachment.content_type
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _visible_attachment(request: HttpRequest, attachment_id: int) -> Attachment:
    """The file, if the reader may have it; otherwise the same 404 as a file that never was."""
    attachment = get_object_or_404(Attachment.objects.select_related("proposal"), pk=attachment_id)
    if not visibility.can_see_attachment(request.user, attachment):
        raise Http404("No such attachment.")
    return attachment


@require_POST
@login_required
def attachment_visibility(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """The secretary marks a file as proxy material, or takes it back to the board."""
    attachment = _visible_attachment(request, attachment_id)
    if not visibility.can_set_attachment_visibility(request.user):
        raise PermissionDenied("Only the company secretary may say who reads an attachment.")
    try:
        materials.attachment_visibility_set(
            attachment=attachment,
            visibility=request.POST.get("visibility", ""),
            actor=acting_user(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Who reads “%(name)s” is saved.") % {"name": attachment.name})
    return redirect("proposals:detail", proposal_id=attachment.proposal_id)
