"""TIC read API, mounted under ``/api/v1/tic/``."""

from django.urls import path

from tic import api

urlpatterns = [
    path("meters/", api.MeterList.as_view(), name="tic-meters"),
    path("meters/<int:pk>/state", api.MeterState.as_view(), name="tic-meter-state"),
    path("meters/<int:pk>/events", api.MeterEvents.as_view(), name="tic-meter-events"),
    path("meters/<int:pk>/energy", api.MeterEnergy.as_view(), name="tic-meter-energy"),
]
