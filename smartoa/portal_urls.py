"""Portal pages of Smart OA, mounted under ``/smartoa/``.

Each route carries the contract's id only (further ids travel in the POST body), so the
tenant-isolation test walking the URL conf covers them all. A new contract is created outside
``contracts/``: any word there could be a contract number.
"""

from django.urls import path

from smartoa import views

app_name = "smartoa_portal"

urlpatterns = [
    path("contracts/", views.contract_list, name="contracts"),
    path("new-contract/", views.contract_create, name="contract_create"),
    path("contracts/<str:contract_id>/", views.contract_detail, name="contract"),
    path("contracts/<str:contract_id>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<str:contract_id>/fetch/", views.fetch_now, name="fetch"),
    path("contracts/<str:contract_id>/schedule/", views.enter_schedule, name="enter_schedule"),
    path("contracts/<str:contract_id>/contacts/", views.set_contacts, name="contacts"),
    path("contracts/<str:contract_id>/credentials/", views.set_credentials, name="credentials"),
    path("contracts/<str:contract_id>/webhook/", views.set_webhook, name="webhook"),
    path("contracts/<str:contract_id>/tokens/", views.create_token, name="create_token"),
    path("contracts/<str:contract_id>/tokens/revoke/", views.revoke_token, name="revoke_token"),
    path("contracts/<str:contract_id>/load-curve/", views.upload_load_curve, name="load_curve"),
]
