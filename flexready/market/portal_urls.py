"""Portal routes, mounted under ``/flexready/signals/``."""

from django.urls import path

from flexready.market import views

app_name = "flexready_market"

urlpatterns = [
    path("", views.signals, name="signals"),
    path("follow/", views.follow, name="follow"),
    path("upload/", views.upload, name="upload"),
]
