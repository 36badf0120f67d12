from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from hub import health
from hub.portal.admin_site import MFAAdminSite

# The admin behind the portal's password + second factor; its registrations are kept.
admin.site.__class__ = MFAAdminSite

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("hub.api.urls")),
    path("api/v1/smartoa/", include("smartoa.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("webauthn/", include("hub.portal.webauthn_urls")),
    path("", include("hub.portal.urls")),
]

if settings.HUB_SIMULATORS:
    # Each app mounts the fake of its external API under /sim/<app>/.
    urlpatterns += [path("sim/smartoa/", include("smartoa.sim_urls"))]
