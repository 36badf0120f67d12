"""The simulators' routes, mounted under ``/sim/flexready/`` when ``HUB_SIMULATORS`` is on."""

from django.urls import path

from flexready.market.simulator import ecowatt as ecowatt_sim
from flexready.market.simulator import supplier as supplier_sim

urlpatterns = [
    path(
        "supplier/sessions/<str:session_id>/suppliers/commodity/prices",
        supplier_sim.prices,
        name="flexready-sim-supplier-prices",
    ),
    path("supplier/admin/signals", supplier_sim.upload, name="flexready-sim-supplier-upload"),
    path("supplier/auth/login", supplier_sim.login, name="flexready-sim-supplier-login"),
    path("supplier/auth/token", supplier_sim.token, name="flexready-sim-supplier-token"),
    path("ecowatt/token/oauth/", ecowatt_sim.token, name="flexready-sim-ecowatt-token"),
    path(
        "ecowatt/open_api/ecowatt/v5/signals",
        ecowatt_sim.signals,
        name="flexready-sim-ecowatt-signals",
    ),
    path(
        "ecowatt/open_api/ecowatt/v5/sandbox/signals",
        ecowatt_sim.sandbox_signals,
        name="flexready-sim-ecowatt-sandbox",
    ),
]
