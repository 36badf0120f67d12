"""Every list of the token API answers one page: ``{count, next, previous, results}``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


def paginated(
    view: APIView,
    request: Request,
    rows: QuerySet[Any] | Sequence[Any],
    serialize: Callable[[list[Any]], Any] = list,
) -> Response:
    """One page of ``rows`` (``?limit=&offset=``, 100 by default), each page serialised whole:
    a ``QuerySet`` is counted and sliced by the database."""
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serialize(list(page or [])))
