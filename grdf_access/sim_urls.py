"""The simulator's routes, mounted under ``/sim/grdf/`` when ``HUB_SIMULATORS`` is on.

``adict/v2/`` mirrors GRDF's base path (ref §1.1); ``oauth2/token`` is the token endpoint;
``_sim/`` holds the control endpoints used by tests and the portal demo.
"""

from django.urls import path, re_path

from grdf_access.simulator import control, views

_PCE = r"(?P<pce>[^/]+)"
_API = "adict/v2/"

urlpatterns = [
    path("oauth2/token", views.token, name="grdf-sim-token"),
    path(f"{_API}pce/<str:pce>/droit_acces", views.declare, name="grdf-sim-declare"),
    path(f"{_API}droits_acces", views.list_rights, name="grdf-sim-rights"),
    path(f"{_API}droits_acces/masse", views.declare_bulk, name="grdf-sim-declare-bulk"),
    path(f"{_API}droit_acces/<str:right_id>", views.right_detail, name="grdf-sim-right"),
    path(f"{_API}droit_acces/<str:right_id>/preuves", views.proofs, name="grdf-sim-proofs"),
    path(
        f"{_API}droit_acces/<str:right_id>/resiliation", views.terminate, name="grdf-sim-terminate"
    ),
    re_path(
        rf"^{_API}pce/{_PCE}/(?P<resource>donnees_consos_publiees|donnees_consos_informatives"
        r"|donnees_consos_horaires|donnees_injections_publiees)$",
        views.data,
        name="grdf-sim-data",
    ),
    re_path(
        rf"^{_API}pce/{_PCE}/(?P<resource>donnees_contractuelles|donnees_techniques)$",
        views.snapshot,
        name="grdf-sim-snapshot",
    ),
    path(f"{_API}pce/<str:pce>/abonnement", views.subscribe, name="grdf-sim-subscribe"),
    path(f"{_API}abonnements", views.list_subscriptions, name="grdf-sim-subscriptions"),
    path(
        f"{_API}abonnement/<str:subscription_id>",
        views.cancel_subscription,
        name="grdf-sim-subscription",
    ),
    path("_sim/counters", control.counters, name="grdf-sim-counters"),
    path("_sim/reset", control.reset, name="grdf-sim-reset"),
    path("_sim/clock", control.clock, name="grdf-sim-clock"),
    path("_sim/throttle", control.throttle, name="grdf-sim-throttle"),
    path("_sim/faults/<str:pce>", control.fault, name="grdf-sim-fault"),
    path("_sim/droit_acces/<str:right_id>", control.act_on_right, name="grdf-sim-control-right"),
    path(
        "_sim/droit_acces/<str:right_id>/<str:action>",
        control.act_on_right,
        name="grdf-sim-control-right-action",
    ),
]
