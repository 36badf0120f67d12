from rest_framework.routers import DefaultRouter

from hub.api import views

router = DefaultRouter()
router.register("sites", views.SiteViewSet, basename="site")
router.register("metering-points", views.MeteringPointViewSet, basename="meteringpoint")
router.register("series", views.SeriesViewSet, basename="series")

urlpatterns = router.urls
