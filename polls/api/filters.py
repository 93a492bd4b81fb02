from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from polls import kinds
from polls.models import Poll, PollStatus
from polls.selectors import effective_status_q


class PollFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=PollStatus.choices, method="filter_status", help_text="Status as a reader sees it now."
    )
    kind = django_filters.ChoiceFilter(
        choices=kinds.API_KINDS,
        method="filter_kind",
        help_text="shareholder: every meeting item, whatever its ballot form.",
    )

    class Meta:
        model = Poll
        fields = ["status", "kind"]

    def filter_kind(self, queryset: QuerySet[Poll], name: str, value: str) -> QuerySet[Poll]:
        return queryset.filter(kind__in=kinds.kinds_named(value))

    def filter_status(self, queryset: QuerySet[Poll], name: str, value: str) -> QuerySet[Poll]:
        return queryset.filter(effective_status_q(value, timezone.now()))
