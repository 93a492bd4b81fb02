from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet, URLField
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, SavedByItsCheck, SecretaryOnly, SecretaryWrites
from core.audit import audit_trail
from core.errors import DomainError
from core.http import acting_user
from core.models import AuditEvent
from core.roles import is_secretary
from core.validators import snapshot_percentages
from polls import certification, disclosure, kinds, refusals, services
from polls.admin_forms import POLL_FORM_FIELDS, OptionFormSet, PollAdminForm
from polls.models import Ballot, Option, Poll, RecordedPoll, RecordedSnapshot
from polls.permissions import can_see_results

POLL_RECORD_FIELDS = [
    "status",
    "created_by",
    "created_at",
    "updated_at",
    "certified_at",
    "certified_by",
    "audit_trail",
]


def _event_detail(payload: dict[str, Any]) -> str:
    changes = payload.get("changes")
    if isinstance(changes, dict):  # meeting and item edits: each field's old and new value
        return "; ".join(f"{name}: {change.get('from')} → {change.get('to')}" for name, change in changes.items())
    return str(payload.get("to", ""))


def audit_trail_html(stream: str) -> str:
    """A change page's read-only view of its subject's audit chain, oldest first."""
    return (
        format_html_join(
            "\n",
            "<div>{} · {} · {} {}</div>",
            (
                (event.at.strftime("%Y-%m-%d %H:%M"), event.actor_name, event.action, _event_detail(event.payload))
                for event in audit_trail(stream)
            ),
        )
        or "-"
    )


class OptionInline(SecretaryWrites, admin.TabularInline):
    model = Option
    formset = OptionFormSet
    extra = 0
    max_num = services.MAX_OPTIONS
    fields = ["position", "label", "running_votes"]
    readonly_fields = ["running_votes"]

    @admin.display(description=_("Votes so far"))
    def running_votes(self, option: Option) -> str:
        if option.pk is None:
            return "n/a"
        # The admin keeps the same promise as the pages: no early peek at hidden results.
        if not can_see_results(user=ANYONE, poll=option.poll):
            return str(HIDDEN)
        return str(option.votes)

    @staticmethod
    def _editable(obj: Poll | None) -> bool:
        # An item's for / against / abstain are fixed; a poll's options only until it opens.
        return obj is None or (
            not kinds.form_of(obj).fixed_options and obj.effective_status() in services.EDITABLE_STATUSES
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if not self._editable(obj):
            return ["position", "label", "running_votes"]
        return self.readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


# Every action here changes an item's state: the secretary's (core.admin.SecretaryWrites).
SECRETARY = ["secretary"]


def _lifecycle_action(
    transition: Callable[..., Poll], name: str, done_message: Callable[[int], str]
) -> Callable[[admin.ModelAdmin, HttpRequest, QuerySet[Poll]], None]:
    def run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Poll]) -> None:
        done = 0
        for poll in queryset:
            try:
                transition(poll=poll, actor=request.user)
                done += 1
            except DomainError as error:
                modeladmin.message_user(request, f"“{poll}”: {error.message}", messages.ERROR)
        if done:
            modeladmin.message_user(request, done_message(done) % {"count": done}, messages.SUCCESS)

    run.__name__ = f"{name}_polls"
    return run


def _certify_polls(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Poll]) -> None:
    """Certify where the figures agree; a tabulation that differs from the ballots is confirmed
    on the console's certify page, which shows the difference first."""
    done = 0
    for poll in queryset:
        try:
            certification.poll_certify(poll=poll, actor=acting_user(request))
            done += 1
        except certification.TabulationDiffers as error:
            page = reverse("console:poll-certify", kwargs={"poll_id": poll.pk})
            modeladmin.message_user(
                request,
                format_html(
                    "“{}”: {} {}",
                    poll,
                    error.message,
                    format_html(gettext('Review it and confirm on <a href="{}">its certify page</a>.'), page),
                ),
                messages.ERROR,
            )
        except DomainError as error:
            modeladmin.message_user(request, f"“{poll}”: {error.message}", messages.ERROR)
    if done:
        message = ngettext("%(count)d poll certified.", "%(count)d polls certified.", done)
        modeladmin.message_user(request, message % {"count": done}, messages.SUCCESS)


_certify_polls.__name__ = "certify_polls"


@admin.register(Poll)
class PollAdmin(SavedByItsCheck, SecretaryWrites, admin.ModelAdmin):
    form = PollAdminForm
    list_display = [
        "title",
        "kind",
        "meeting",
        "status",
        "opens_at",
        "closes_at",
        "results_visibility",
        "secret",
        "certified_at",
    ]
    list_filter = ["status", "kind", "results_visibility", "secret", "meeting"]
    list_select_related = ["meeting"]
    search_fields = ["title", "description"]
    date_hierarchy = "opens_at"
    inlines = [OptionInline]
    readonly_fields = POLL_RECORD_FIELDS
    fields = [*POLL_FORM_FIELDS, *POLL_RECORD_FIELDS]
    actions = [
        admin.action(permissions=SECRETARY, description=_("Schedule (opens at its opening time)"))(
            _lifecycle_action(
                services.poll_schedule,
                "schedule",
                lambda n: ngettext("%(count)d poll scheduled.", "%(count)d polls scheduled.", n),
            )
        ),
        admin.action(permissions=SECRETARY, description=pgettext_lazy("poll action", "Open now"))(
            _lifecycle_action(
                services.poll_open, "open", lambda n: ngettext("%(count)d poll opened.", "%(count)d polls opened.", n)
            )
        ),
        admin.action(permissions=SECRETARY, description=_("Close now"))(
            _lifecycle_action(
                services.poll_close, "close", lambda n: ngettext("%(count)d poll closed.", "%(count)d polls closed.", n)
            )
        ),
        admin.action(permissions=SECRETARY, description=_("Certify (recount and freeze)"))(_certify_polls),
    ]

    @admin.display(description=_("Audit trail (read-only)"))
    def audit_trail(self, poll: Poll) -> str:
        return audit_trail_html(f"poll:{poll.pk}") if poll.pk else "-"

    def get_readonly_fields(self, request: HttpRequest, obj: Poll | None = None) -> Any:
        if obj is not None and obj.effective_status() not in services.EDITABLE_STATUSES:
            return self.fields
        if obj is not None:
            # Kind and meeting decide the options a poll has; they are set once, at creation.
            return [*self.readonly_fields, "kind", "meeting"]
        return self.readonly_fields

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request: HttpRequest, obj: Poll, form: Any, change: bool) -> None:
        if change:
            # The form's check already saved the edit through poll_update / item_rules_update
            # (which also open a poll whose new window has begun, on its trail).
            return
        obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        kinds.form_of(form.instance).options_ensure(form.instance)


HIDDEN = refusals.HIDDEN_UNTIL_RESULTS
CHOICE_FIELDS = {"option", "shares_for", "shares_against", "shares_abstain", "salt"}
# The admin is a shared object across requests: it judges visibility as for anyone, so an
# admin who voted in an "after voting" poll is not shown more than a visitor.
ANYONE = AnonymousUser()
BALLOT_FIELDS = ["poll", "voter", "holder", "choice", "weight", "cast_at", "updated_at"]


@admin.register(Ballot)
class BallotAdmin(SecretaryOnly, admin.ModelAdmin):
    """Ballots are evidence: shown to the secretary, changed only by voters through the service.
    What a ballot chose stays hidden while the poll's results are (the same promise as the pages)."""

    list_display = ["poll", "voter", "holder", "choice", "weight", "cast_at", "updated_at"]
    list_filter = ["poll__status", "poll__kind"]
    search_fields = ["poll__title", "voter__username", "holder__name", "holder__account"]
    list_select_related = ["poll", "voter", "option", "holder"]
    fields = [*BALLOT_FIELDS]
    readonly_fields = [*BALLOT_FIELDS]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The admin accepts any local field in the query string (?option=17): filtering by what
        # was chosen would list who chose it, whatever the choice column hides.
        if lookup.split("__", 1)[0] in CHOICE_FIELDS:
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        _choices_read(list(changelist.result_list))
        return changelist

    @admin.display(description=_("choice"))
    def choice(self, ballot: Ballot) -> str:
        hidden = disclosure.ballot_choice_hidden(user=ANYONE, poll=ballot.poll)
        if hidden is not None:
            return hidden
        if CHOICE_READ not in ballot.__dict__:  # one ballot's own page
            _choices_read([ballot])
        return str(ballot.__dict__[CHOICE_READ])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Where _choices_read leaves a ballot's choice in words, on the instance the page shows: the
# admin itself is shared by every request.
CHOICE_READ = "_choice_read"


def _choices_read(ballots: list[Ballot]) -> None:
    """Ask each ballot form once for the choices of its ballots on the page: an election's
    are rows of their own, which asking ballot by ballot would read in a query a row."""
    by_form: dict[str, list[Ballot]] = {}
    for ballot in ballots:
        if disclosure.ballot_choice_hidden(user=ANYONE, poll=ballot.poll) is None:
            by_form.setdefault(ballot.poll.kind, []).append(ballot)
    for name, group in by_form.items():
        read = kinds.form_for(name).ballot_choices(group)
        for ballot in group:
            ballot.__dict__[CHOICE_READ] = read.get(ballot.pk, "")


class RecordedSnapshotForm(forms.ModelForm):
    """The same checks as the API's snapshots: a bad percentage would break the pages that
    chart them, for everyone."""

    class Meta:
        model = RecordedSnapshot
        fields = ["taken_at", "total_votes", "percentages", "note"]

    def clean_percentages(self) -> dict[str, str]:
        recorded_id = self.instance.recorded_poll_id
        options = RecordedPoll.objects.get(pk=recorded_id).options if recorded_id else None
        return snapshot_percentages(self.cleaned_data.get("percentages"), options)


class RecordedSnapshotInline(SecretaryWrites, admin.TabularInline):
    model = RecordedSnapshot
    form = RecordedSnapshotForm
    extra = 1
    fields = ["taken_at", "total_votes", "percentages", "note"]


@admin.register(RecordedPoll)
class RecordedPollAdmin(SecretaryWrites, admin.ModelAdmin):
    list_display = ["question", "platform", "author", "created_at"]
    search_fields = ["question", "author", "platform"]
    inlines = [RecordedSnapshotInline]
    formfield_overrides = {URLField: {"assume_scheme": "https"}}  # Django 6's default, without its warning


AUDIT_EVENT_FIELDS = ["stream", "seq", "action", "actor", "actor_name", "at", "shown_payload", "prev_hash", "hash"]


@admin.register(AuditEvent)
class AuditEventAdmin(SecretaryOnly, ReadOnlyAdmin):
    """The secretary's: the trail holds the board's deliberation (review votes and comments,
    recusals) and accounts' events, which model permissions alone must not open to other staff."""

    list_display = ["stream", "seq", "action", "actor_name", "at", "short_hash"]
    list_filter = ["action"]
    search_fields = ["stream", "action", "actor_name"]
    # The raw payload would show a ballot's choice before results are visible.
    fields = [*AUDIT_EVENT_FIELDS]
    readonly_fields = [*AUDIT_EVENT_FIELDS]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # ?payload__option=17 would list the ballots that chose option 17.
        if lookup.split("__", 1)[0] == "payload":
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("payload"))
    def shown_payload(self, event: AuditEvent) -> str:
        return json.dumps(disclosure.event_payload_shown(event, user=ANYONE), sort_keys=True, ensure_ascii=False)

    @admin.display(description=_("hash"))
    def short_hash(self, event: AuditEvent) -> str:
        return event.hash[:12]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretary(request.user) and request.user.has_perm("core.view_auditevent")
