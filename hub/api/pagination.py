"""Every list of the token API answers one page: ``{count, next, previous, results}``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

# An offset this large is past the end of any list, and with a limit no database's LIMIT /
# OFFSET (64-bit) holds their sum: the page is empty without asking.
_PAST_ANY_LIST = 2**62


class PagePagination(LimitOffsetPagination):
    """DRF's ``?limit=&offset=`` pages, counted only when the page cannot tell its total.

    The page is read with one row more than the limit: a page that is not full, and not past
    the end, ends the list, so its total is ``offset`` plus its rows. Only a full page (more
    rows follow) or one past the end asks the database for ``count()``, a statement and a
    round trip that most lists (an organisation's points, a point's series) no longer pay.

    A page holds at most ``max_limit`` rows (a larger ``limit`` is cut to it, as DRF does)."""

    max_limit = 1000

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.offset = self.get_offset(request)
        if self.offset >= _PAST_ANY_LIST:
            rows = []
        else:
            rows = list(queryset[self.offset : self.offset + self.limit + 1])
        if len(rows) <= self.limit and (rows or self.offset == 0):
            self.count = self.offset + len(rows)
        else:
            self.count = self.get_count(queryset)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        return rows[: self.limit]


def paginated(
    view: APIView,
    request: Request,
    rows: QuerySet[Any] | Sequence[Any],
    serialize: Callable[[list[Any]], Any] = list,
    *,
    serializer: type[BaseSerializer[Any]] | None = None,
) -> Response:
    """One page of ``rows`` (``?limit=&offset=``, 100 by default), each page serialised whole
    (by ``serializer``, else by ``serialize``): a ``QuerySet`` is sliced, and counted when
    needed, by the database (``PagePagination``)."""
    paginator = PagePagination()
    page = list(paginator.paginate_queryset(rows, request, view=view) or [])
    data = serializer(page, many=True).data if serializer is not None else serialize(page)
    return paginator.get_paginated_response(data)
