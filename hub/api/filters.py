"""Query-string filters of the token API: django-filter without its per-request set-up costs."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request
from rest_framework.views import APIView

# One form class per filter set: django-filter builds a new class (and a form field per
# filter) on every request, a tenth of a page of metering points' CPU. The class is only a
# template: each form instance deep-copies its fields, so sharing it is safe.
_FORM_CLASSES: dict[type[django_filters.FilterSet], type[forms.Form]] = {}


class FilterSet(django_filters.FilterSet):
    """A filter set whose filters are fixed by its class (none is added per request)."""

    def get_form_class(self) -> type[forms.Form]:
        cls = type(self)
        form = _FORM_CLASSES.get(cls)
        if form is None:
            form = _FORM_CLASSES[cls] = super().get_form_class()
        return form


# The largest row id: the keys are 64-bit signed integers.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number a database key can hold. A number filter would take
    ``1.5`` or ``-5e267`` and hand them to the database (SQLite cannot bind the latter)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class FilterBackend(DjangoFilterBackend):
    """A list asked for without any of its filters is not run through the filter set: no
    filter would apply, and none of ours has a default or is required."""

    def get_filterset(
        self, request: Request, queryset: QuerySet[Any], view: APIView
    ) -> django_filters.FilterSet | None:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        if not any(name in filterset_class.base_filters for name in request.query_params):
            return None
        return super().get_filterset(request, queryset, view)
