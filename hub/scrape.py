"""``GET /metrics``: the Prometheus text format, for a bearer secret or an allowed network."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hub import metrics
from hub.netaddr import address_allowed, client_ip


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[7:].strip().encode(), token.encode())
    networks = settings.METRICS_ALLOWED_NETWORKS
    return bool(networks) and address_allowed(client_ip(request), networks)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    # Hub-wide figures, so no tenant's API token opens them: a secret of the operator's own.
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_NETWORKS:
        return HttpResponse(
            "metrics are off: set HUB_METRICS_TOKEN or HUB_METRICS_ALLOWED_NETWORKS\n",
            status=404,
            content_type="text/plain",
        )
    if not _allowed(request):
        response = HttpResponse("unauthorised\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics.exposition(root=settings.METRICS_DIR or None)
    return HttpResponse(body, content_type=content_type)
