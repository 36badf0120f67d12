"""API routes, mounted under ``/api/v1/`` beside the annexes' other paths."""

from django.urls import path

from flexready.market import api

urlpatterns = [
    path(
        "sessions/<str:session_id>/cems/commodity/prices",
        api.CemsCheck.as_view(),
        name="flexready-market-cems-check",
    ),
    path(
        "flexready/ecowatt/signals", api.EcowattSignals.as_view(), name="flexready-market-ecowatt"
    ),
]
