from django.urls import path
from rest_framework.routers import DefaultRouter

from hub.api import jobs, problems, views

router = DefaultRouter()
router.register("sites", views.SiteViewSet, basename="site")
router.register("metering-points", views.MeteringPointViewSet, basename="meteringpoint")
router.register("series", views.SeriesViewSet, basename="series")

urlpatterns = [
    *router.urls,
    path("ping", views.Ping.as_view(), name="api-ping"),
    path("problems/<slug:slug>", problems.kind_page, name="api-problem"),
    path("jobs/<uuid:pk>/", jobs.JobDetail.as_view(), name="api-job"),
    path("jobs/<uuid:pk>/result", jobs.JobResult.as_view(), name="api-job-result"),
]
