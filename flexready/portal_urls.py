from django.urls import path

from flexready import views

app_name = "flexready"

urlpatterns = [
    path("", views.bacs_list, name="bacs_list"),
    path("assets/<int:pk>/edit/", views.asset_edit, name="asset_edit"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
]
