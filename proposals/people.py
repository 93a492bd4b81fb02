"""The console's people pages: the secretary appoints and removes directors, records their
interests from the party list, invites accounts by e-mail and deactivates them. The writes are
proposals.people_services'; every irreversible step asks for a second, confirming post."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.http import acting_user
from core.validators import no_control_characters
from proposals import people_services
from proposals.console import secretary_only
from proposals.models import Director, Party

ACCOUNTS_SHOWN = 50


# --- Forms -----------------------------------------------------------------------------------


class SingleLineFormField(forms.CharField):
    default_validators = [no_control_characters]


class DateInput(forms.DateInput):
    input_type = "date"


class DirectorForm(forms.Form):
    account = forms.CharField(
        label=gettext_lazy("Account (username or e-mail)"),
        max_length=254,
        help_text=gettext_lazy("Invite the person first if they have no account yet."),
    )
    title = SingleLineFormField(label=gettext_lazy("Title"), max_length=200, required=False)
    office_from = forms.DateField(label=gettext_lazy("In office from"), widget=DateInput)
    office_to = forms.DateField(
        label=gettext_lazy("In office until"),
        widget=DateInput,
        required=False,
        help_text=gettext_lazy("Leave empty while the term has no set end."),
    )
    parties = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Interests"),
        queryset=Party.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy(
            "The parties this director has an interest in: they are recused from proposals with them."
        ),
    )
    new_party = SingleLineFormField(
        label=gettext_lazy("Add a new party"),
        max_length=200,
        required=False,
        help_text=gettext_lazy('Another party not in the list, e.g. "xAI". A known alias finds its party.'),
    )

    def __init__(self, *args: Any, editing: Director | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing is not None:
            # The seat belongs to one account: editing never moves it to another.
            del self.fields["account"]

    def clean_account(self) -> User:
        text = self.cleaned_data["account"].strip()
        user = get_user_model().objects.filter(Q(username__iexact=text) | Q(email__iexact=text)).order_by("pk").first()
        if user is None:
            raise forms.ValidationError(_("No account has this username or e-mail."))
        return user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("office_from"), data.get("office_to")
        if start and end and end < start:
            self.add_error("office_to", _("The term cannot end before it starts."))
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail"))
    first_name = SingleLineFormField(label=gettext_lazy("First name"), max_length=150, required=False)
    last_name = SingleLineFormField(label=gettext_lazy("Last name"), max_length=150, required=False)
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the invitation"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE
    )


class RemoveForm(forms.Form):
    office_to = forms.DateField(label=gettext_lazy("Last day in office is the day before"), widget=DateInput)


# --- Pages -----------------------------------------------------------------------------------


@require_http_methods(["GET"])
@secretary_only
def people_home(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    accounts = get_user_model().objects.order_by("username")
    if query:
        accounts = accounts.filter(
            Q(username__icontains=query)
            | Q(email__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
    directors = (
        Director.objects.select_related("user").prefetch_related("parties").order_by("-in_office", "user__username")
    )
    context = {
        "directors": directors,
        "accounts": accounts[:ACCOUNTS_SHOWN],
        "more_accounts": accounts.count() > ACCOUNTS_SHOWN,
        "query": query,
        "director_ids": set(directors.values_list("user_id", flat=True)),
    }
    return render(request, "console/people.html", context)


def _director_form_page(
    request: HttpRequest, form: DirectorForm, director: Director | None, status: int = 200
) -> HttpResponse:
    return render(request, "console/people_director.html", {"form": form, "director": director}, status=status)


@require_http_methods(["GET", "POST"])
@secretary_only
def director_new(request: HttpRequest) -> HttpResponse:
    form = DirectorForm(request.POST or None, initial={"office_from": timezone.localdate()})
    if request.method == "POST":
        if form.is_valid():
            return _director_save(request, form, form.cleaned_data["account"])
        return _director_form_page(request, form, None, status=400)
    return _director_form_page(request, form, None)


@require_http_methods(["GET", "POST"])
@secretary_only
def director_edit(request: HttpRequest, director_id: int) -> HttpResponse:
    director = get_object_or_404(Director.objects.select_related("user"), pk=director_id)
    initial = {
        "title": director.title,
        "office_from": director.office_from or timezone.localdate(),
        "office_to": director.office_to,
        "parties": list(director.parties.all()),
    }
    form = DirectorForm(request.POST or None, initial=initial, editing=director)
    if request.method == "POST":
        if form.is_valid():
            return _director_save(request, form, director.user)
        return _director_form_page(request, form, director, status=400)
    return _director_form_page(request, form, director)


def _director_save(request: HttpRequest, form: DirectorForm, user: User) -> HttpResponse:
    data = form.cleaned_data
    try:
        director = people_services.director_record(
            user=user,
            title=data["title"],
            office_from=data["office_from"],
            office_to=data["office_to"],
            parties=data["parties"],
            new_party=data["new_party"],
            actor=acting_user(request),
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _director_form_page(request, form, form.editing, status=error.status_code)
    messages.success(request, _("%(name)s is saved as a director.") % {"name": director.user.get_username()})
    return redirect("console:people")


@require_http_methods(["GET", "POST"])
@secretary_only
def director_remove(request: HttpRequest, director_id: int) -> HttpResponse:
    """GET asks for the date and a confirmation; only the POST ends the term."""
    director = get_object_or_404(Director.objects.select_related("user"), pk=director_id)
    form = RemoveForm(request.POST or None, initial={"office_to": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                people_services.director_remove(
                    director=director,
                    actor=acting_user(request),
                    office_to=form.cleaned_data["office_to"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
                status = error.status_code
            else:
                messages.success(request, _("The director's term ends; it is on the trail."))
                return redirect("console:people")
        else:
            status = 400
    return render(request, "console/people_remove.html", {"form": form, "director": director}, status=status)


@require_http_methods(["GET", "POST"])
@secretary_only
def account_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                user = people_services.account_invite(actor=acting_user(request), **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
                status = error.status_code
            else:
                messages.success(request, _("The invitation is sent to %(email)s.") % {"email": user.email})
                return redirect("console:people")
    return render(request, "console/people_invite.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@secretary_only
def account_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET shows what deactivation does and asks to confirm; the POST does it."""
    account = get_object_or_404(get_user_model(), pk=user_id)
    error_message, status = "", 200
    if request.method == "POST":
        try:
            people_services.account_deactivate(user=account, actor=acting_user(request))
        except DomainError as error:
            error_message, status = str(error.message), error.status_code
        else:
            messages.success(request, _("The account is deactivated and its API tokens are revoked."))
            return redirect("console:people")
    context = {"account": account, "error": error_message}
    return render(request, "console/people_deactivate.html", context, status=status)


@require_POST
@secretary_only
def account_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    account = get_object_or_404(get_user_model(), pk=user_id)
    try:
        people_services.account_reactivate(user=account, actor=acting_user(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The account is active again."))
    return redirect("console:people")
