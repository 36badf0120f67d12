"""Control API, mounted under ``/api/v1/control/``."""

from django.urls import path

from hub.control import api

urlpatterns = [
    path("sites/", api.ControlSiteList.as_view(), name="control-sites"),
    path("sites/<int:site_id>/", api.ControlSiteDetail.as_view(), name="control-site"),
    path("sites/<int:site_id>/dry-run/", api.ControlDryRun.as_view(), name="control-dry-run"),
    path("loads/<int:load_id>/override/", api.ControlOverride.as_view(), name="control-override"),
    path(
        "overrides/<int:override_id>/cancel/",
        api.ControlOverrideCancel.as_view(),
        name="control-override-cancel",
    ),
]
