"""Read API for plant controllers, mounted under ``/api/v1/smartoa/``."""

from django.urls import path

from smartoa import api

urlpatterns = [
    path("contracts/", api.ContractList.as_view(), name="smartoa-contracts"),
    path("contracts/<str:contract_id>/setpoint", api.Setpoint.as_view(), name="smartoa-setpoint"),
    path(
        "contracts/<str:contract_id>/schedules", api.Schedules.as_view(), name="smartoa-schedules"
    ),
    path("contracts/<str:contract_id>/billing", api.Billing.as_view(), name="smartoa-billing"),
]
