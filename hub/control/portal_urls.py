"""Control portal pages, mounted under ``/control/``."""

from django.urls import path

from hub.control import views

app_name = "control"

urlpatterns = [
    path("", views.site_list, name="sites"),
    path("sites/<int:pk>/", views.site_detail, name="site"),
    path("sites/<int:pk>/dry-run/", views.dry_run, name="dry_run"),
    path("loads/<int:pk>/override/", views.override, name="override"),
    path("overrides/<int:pk>/cancel/", views.cancel_override, name="cancel_override"),
]
