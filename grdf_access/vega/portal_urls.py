"""Portal pages of the VEGA calendar and watch, mounted under ``/grdf/vega/``."""

from django.urls import path

from grdf_access.vega import views

app_name = "vega"

urlpatterns = [
    path("", views.migration, name="migration"),
    path("export.csv", views.migration_export, {"kind": "csv"}, name="migration_csv"),
    path("export.xlsx", views.migration_export, {"kind": "xlsx"}, name="migration_xlsx"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("usages/<int:usage_pk>/supprimer/", views.usage_delete, name="usage_delete"),
    path("veille/", views.watch_page, name="watch"),
    path(
        "veille/attendues/<int:expected_pk>/supprimer/",
        views.expected_delete,
        name="expected_delete",
    ),
    path("estimes/", views.estimated, name="estimated"),
]
