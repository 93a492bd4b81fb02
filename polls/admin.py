from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from polls import services
from polls.exceptions import PollError
from polls.models import Ballot, Option, Poll
from polls.permissions import can_see_results


class OptionInline(admin.TabularInline):
    model = Option
    extra = 0
    min_num = 2
    max_num = services.MAX_OPTIONS
    validate_min = True
    validate_max = True
    fields = ["position", "label", "running_votes"]
    readonly_fields = ["running_votes"]

    @admin.display(description="Votes so far")
    def running_votes(self, option: Option) -> str:
        if option.pk is None:
            return "n/a"
        # The admin keeps the same promise as the pages: no early peek at hidden results.
        if not can_see_results(user=self.request_user, poll=option.poll):
            return "hidden until results are visible"
        return str(option.votes)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        self.request_user = request.user
        return super().get_formset(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.effective_status() not in services.EDITABLE_STATUSES:
            return ["position", "label", "running_votes"]
        return self.readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        editable = obj is None or obj.effective_status() in services.EDITABLE_STATUSES
        return editable and super().has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        editable = obj is None or obj.effective_status() in services.EDITABLE_STATUSES
        return editable and super().has_delete_permission(request, obj)


def _lifecycle_action(
    transition: Callable[..., Poll], name: str, verb: str, *, with_user: bool = False
) -> Callable[[admin.ModelAdmin, HttpRequest, QuerySet[Poll]], None]:
    def run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Poll]) -> None:
        done = 0
        for poll in queryset:
            try:
                if with_user:
                    transition(poll=poll, certified_by=request.user)
                else:
                    transition(poll=poll)
                done += 1
            except PollError as error:
                modeladmin.message_user(request, f"“{poll}”: {error.message}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"{done} poll(s) {verb}.", messages.SUCCESS)

    run.__name__ = f"{name}_polls"
    return run


@admin.register(Poll)
class PollAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "status", "opens_at", "closes_at", "results_visibility", "certified_at"]
    list_filter = ["status", "kind", "results_visibility"]
    search_fields = ["title", "description"]
    date_hierarchy = "opens_at"
    inlines = [OptionInline]
    readonly_fields = ["status", "created_by", "created_at", "updated_at", "certified_at", "certified_by"]
    fields = [
        "title",
        "description",
        "kind",
        "opens_at",
        "closes_at",
        "allow_change",
        "results_visibility",
        "status",
        "created_by",
        "created_at",
        "updated_at",
        "certified_at",
        "certified_by",
    ]
    actions = [
        admin.action(description="Schedule (opens at its opening time)")(
            _lifecycle_action(services.poll_schedule, "schedule", "scheduled")
        ),
        admin.action(description="Open now")(_lifecycle_action(services.poll_open, "open", "opened")),
        admin.action(description="Close now")(_lifecycle_action(services.poll_close, "close", "closed")),
        admin.action(description="Certify (recount and freeze)")(
            _lifecycle_action(services.poll_certify, "certify", "certified", with_user=True)
        ),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Poll | None = None) -> Any:
        if obj is not None and obj.effective_status() not in services.EDITABLE_STATUSES:
            return self.fields
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Poll, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(Ballot)
class BallotAdmin(admin.ModelAdmin):
    """Ballots are evidence: visible to staff, changed only by voters through the service."""

    list_display = ["poll", "voter", "option", "weight", "cast_at", "updated_at"]
    list_filter = ["poll__status"]
    search_fields = ["poll__title", "voter__username"]
    list_select_related = ["poll", "voter", "option"]
    readonly_fields = ["poll", "voter", "option", "weight", "cast_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
