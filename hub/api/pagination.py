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


def paginated(
    view: APIView,
    request: Request,
    rows: QuerySet[Any] | Sequence[Any],
    serialize: Callable[[list[Any]], Any] = list,
    *,
    serializer: type[BaseSerializer[Any]] | None = None,
) -> Response:
    """One page of ``rows`` (``?limit=&offset=``, 100 by default), each page serialised whole
    (by ``serializer``, else by ``serialize``): a ``QuerySet`` is counted and sliced by the
    database."""
    paginator = LimitOffsetPagination()
    page = list(paginator.paginate_queryset(rows, request, view=view) or [])
    data = serializer(page, many=True).data if serializer is not None else serialize(page)
    return paginator.get_paginated_response(data)
