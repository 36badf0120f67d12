from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from hub import health, scrape
from hub.portal.admin_site import MFAAdminSite

# The admin behind the portal's password + second factor; its registrations are kept.
admin.site.__class__ = MFAAdminSite

# A dependency down answers 503 (JSON under /api/), a held row 409; other errors stay 500.
handler500 = "hub.errors.server_error"
handler400 = "hub.errors.bad_request"
handler404 = "hub.errors.not_found"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", scrape.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("hub.api.urls")),
    path("api/v1/", include("flexready.api_urls")),  # Flex Ready Annex 1 paths, after hub's
    path("api/v1/smartoa/", include("smartoa.api_urls")),
    path("api/v1/grdf/", include("grdf_access.api_urls")),
    path("api/v1/tic/", include("tic.api_urls")),
    path("api/v1/control/", include("hub.control.api_urls")),
    # Annex 2's CEMS check (/api/v1/sessions/{id}/cems/commodity/prices) and Ecowatt's last answer.
    path("api/v1/", include("flexready.market.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script for CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("webauthn/", include("hub.portal.webauthn_urls")),
    # The portal's language switch (django.views.i18n.set_language, POST only).
    path("i18n/", include("django.conf.urls.i18n")),
    path("tic/", include("tic.portal_urls")),
    path("smartoa/", include("smartoa.portal_urls")),
    path("flexready/signals/", include("flexready.market.portal_urls")),
    path("flexready/", include("flexready.portal_urls")),
    path("grdf/", include("grdf_access.portal_urls")),
    path("control/", include("hub.control.portal_urls")),
    path("", include("hub.portal.urls")),
]

if settings.HUB_SIMULATORS:
    # Each app mounts the fake of its external API under /sim/<app>/.
    urlpatterns += [path("sim/smartoa/", include("smartoa.sim_urls"))]
    urlpatterns += [path("sim/grdf/", include("grdf_access.sim_urls"))]
    urlpatterns += [path("sim/flexready/", include("flexready.market.sim_urls"))]
