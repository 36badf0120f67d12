"""REST API of GRDF access, mounted under ``/api/v1/grdf/``."""

from django.urls import include, path

from grdf_access import api

urlpatterns = [
    path("pces/", api.PceList.as_view(), name="grdf-pces"),
    path("pces/<str:pce>/", api.PceDetail.as_view(), name="grdf-pce"),
    path("pces/<str:pce>/consumption", api.Consumption.as_view(), name="grdf-consumption"),
    path("pces/<str:pce>/snapshots", api.Snapshots.as_view(), name="grdf-snapshots"),
    path("pces/<str:pce>/revisions", api.Revisions.as_view(), name="grdf-revisions"),
    path("rights/", api.RightList.as_view(), name="grdf-rights"),
    path("rights/import", api.RightImport.as_view(), name="grdf-rights-import"),
    path("rights/import/template", api.ImportTemplate.as_view(), name="grdf-rights-template"),
    path("rights/<int:right_pk>/", api.RightDetail.as_view(), name="grdf-right"),
    path(
        "rights/<int:right_pk>/terminate", api.RightTerminate.as_view(), name="grdf-right-terminate"
    ),
    path("rights/<int:right_pk>/revoke", api.RightRevoke.as_view(), name="grdf-right-revoke"),
    path("rights/<int:right_pk>/proofs", api.RightProofs.as_view(), name="grdf-right-proofs"),
    path("export", api.Export.as_view(), name="grdf-export"),
    path("thresholds/", api.ThresholdList.as_view(), name="grdf-thresholds"),
    path("thresholds/<int:threshold_pk>/", api.ThresholdDetail.as_view(), name="grdf-threshold"),
    path("subscriptions/", api.SubscriptionList.as_view(), name="grdf-subscriptions"),
    path(
        "subscriptions/<int:subscription_pk>/cancel",
        api.SubscriptionCancel.as_view(),
        name="grdf-subscription-cancel",
    ),
    path("reports/long-estimated", api.LongEstimated.as_view(), name="grdf-long-estimated"),
    path("sync", api.Sync.as_view(), name="grdf-sync"),
    path("vega/", include("grdf_access.vega.urls")),
]
