from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from polls.models import Poll, PollKind, PollStatus
from polls.selectors import effective_status_q


class PollFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=PollStatus.choices, method="filter_status", help_text="Status as a reader sees it now."
    )
    kind = django_filters.ChoiceFilter(choices=PollKind.choices)

    class Meta:
        model = Poll
        fields = ["status", "kind"]

    def filter_status(self, queryset: QuerySet[Poll], name: str, value: str) -> QuerySet[Poll]:
        return queryset.filter(effective_status_q(value, timezone.now()))
