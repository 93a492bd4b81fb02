from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class Pagination(PageNumberPagination):
    """Pages of 20. A page number past the end, zero or not a number gives the nearest page
    (as Django's Paginator.get_page does) instead of a 404 for a list that exists."""

    page_size = 20

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        paginator: Paginator = self.django_paginator_class(queryset, page_size)
        self.page = paginator.get_page(request.query_params.get(self.page_query_param))
        self.request = request
        return list(self.page)
