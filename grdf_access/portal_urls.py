"""Portal pages of GRDF access, mounted under ``/grdf/``."""

from django.urls import include, path

from grdf_access import views

app_name = "grdf"

urlpatterns = [
    path("vega/", include("grdf_access.vega.portal_urls")),
    path("", views.rights_table, name="rights"),
    path("droits/nouveau/", views.right_new, name="right_new"),
    path("droits/import/", views.rights_import, name="import"),
    path("droits/modele.csv", views.import_template, name="template"),
    path("droits/<int:right_pk>/", views.right_detail, name="right"),
    path("droits/<int:right_pk>/resilier/", views.right_terminate, name="right_terminate"),
    path("droits/<int:right_pk>/revoquer/", views.right_revoke, name="right_revoke"),
    path("droits/<int:right_pk>/preuves/", views.proofs_upload, name="proofs"),
    path("pce/<str:pce>/", views.pce_detail, name="pce"),
    path("export/", views.export_view, name="export"),
    path("seuils/", views.thresholds_view, name="thresholds"),
    path("seuils/<int:threshold_pk>/supprimer/", views.threshold_delete, name="threshold_delete"),
    path("controles/", views.controls, name="controls"),
    path("estimes/", views.long_estimated, name="estimated"),
    path("synchroniser/", views.sync_now, name="sync"),
    path("abonnements/", views.subscriptions_view, name="subscriptions"),
    path("abonnements/import/", views.subscriptions_import, name="subscriptions_import"),
    path("abonnements/modele.csv", views.subscriptions_template, name="subscriptions_template"),
    path(
        "abonnements/<int:subscription_pk>/resilier/",
        views.subscription_cancel,
        name="subscription_cancel",
    ),
]
