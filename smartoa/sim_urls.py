"""The simulator's routes, mounted under ``/sim/smartoa/`` when ``HUB_SIMULATORS`` is on."""

from django.urls import path

from smartoa import simulator

urlpatterns = [
    path("effacement", simulator.effacement, name="smartoa-sim-effacement"),
]
