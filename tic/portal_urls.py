"""Portal pages of the TIC app, mounted under ``/tic/``."""

from django.urls import path

from tic import views

app_name = "tic"

urlpatterns = [
    path("", views.meter_list, name="meters"),
    path("meters/<int:pk>/", views.meter_detail, name="meter"),
    path("meters/<int:pk>/live/", views.meter_live, name="meter_live"),
    path("meters/<int:pk>/chart.json", views.meter_chart, name="meter_chart"),
]
