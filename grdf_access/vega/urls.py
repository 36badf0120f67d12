"""REST API of the VEGA calendar and watch, mounted under ``/api/v1/grdf/vega/``."""

from django.urls import path

from grdf_access.vega import api

urlpatterns = [
    path("catalogue", api.Catalogue.as_view(), name="vega-catalogue"),
    path("releases", api.Releases.as_view(), name="vega-releases"),
    path("usages/", api.UsageList.as_view(), name="vega-usages"),
    path("usages/<int:usage_pk>/", api.UsageDetail.as_view(), name="vega-usage"),
    path("migration", api.Migration.as_view(), name="vega-migration"),
    path("expected/", api.ExpectedList.as_view(), name="vega-expected"),
    path("expected/<int:expected_pk>/", api.ExpectedDetail.as_view(), name="vega-expected-one"),
    path("arrivals/", api.ArrivalList.as_view(), name="vega-arrivals"),
    path("arrivals/<int:arrival_pk>/", api.ArrivalDetail.as_view(), name="vega-arrival"),
    path("missed", api.Missed.as_view(), name="vega-missed"),
    path("long-estimated", api.LongEstimated.as_view(), name="vega-long-estimated"),
    path(
        "long-estimated/import",
        api.LongEstimatedImport.as_view(),
        name="vega-long-estimated-import",
    ),
    path("long-estimated/requests", api.SpecialReadings.as_view(), name="vega-special-readings"),
]
