"""Annex 1's paths, mounted under ``/api/v1/`` after hub's own routes.

Each resource answers at four prefixes: ``""``, ``operator/``, ``{session_id}/`` and
``{session_id}/operator/``. ``operator/`` comes before ``{session_id}/`` so that "operator" is
never taken for a session id. A session id is any path segment: curl's URL globbing turns the
annex's literal ``{session_id}`` into ``session_id``, and both are valid ids.
"""

from django.urls import URLPattern, path, register_converter

from flexready import api


class SegmentConverter:
    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SegmentConverter, "seg")

ASSET = "bacs/<seg:bacs_id>/assets/<seg:asset_id>"
REQUEST = f"{ASSET}/flexibilities/request/<seg:request_id>"

RESOURCES = [
    ("bacs", api.BacsList, "bacs-list"),
    ("bacs/<seg:bacs_id>", api.BacsDetail, "bacs-detail"),
    ("bacs/<seg:bacs_id>/assets", api.AssetList, "asset-list"),
    (ASSET, api.AssetDetail, "asset-detail"),
    (f"{ASSET}/flexibilities", api.Potential, "potential"),
    (f"{ASSET}/potential", api.Potential, "potential-alias"),
    (f"{ASSET}/flexibilities/request", api.CreateRequest, "request-create"),
    (REQUEST, api.RequestDetail, "request-detail"),
    (f"{REQUEST}/confirm", api.ConfirmRequest, "request-confirm"),
    (f"{REQUEST}/consumptions", api.RealiseRequest, "request-realise"),
    (f"{ASSET}/consumptions", api.Consumptions, "consumptions"),
    (f"{ASSET}/consumptions/aggregated", api.AggregatedConsumptions, "consumptions-aggregated"),
]
# (prefix, url-name prefix, described in the OpenAPI schema): the four forms run the same
# views, so the schema (and the fuzzing that walks it) lists two of them. ``operator/``, the
# operators' own form, comes first: Django tries the patterns in order, and each one that
# fails costs a match and an entry in the 404's list of tried patterns: resolving an operator's
# create took 27 us behind the twelve bare forms, 24 us ahead of them. Neither form can match
# the other's paths.
PREFIXES = [
    ("operator/", "operator-", False),
    ("", "", True),
    ("<seg:session_id>/operator/", "session-operator-", True),
    ("<seg:session_id>/", "session-", False),
]


def _patterns() -> list[URLPattern]:
    patterns = [
        path("flexready/ping", api.Ping.as_view(), name="flexready-ping"),
        path("sessions", api.SessionCreate.as_view(), name="flexready-session-create"),
        path(
            "sessions/<seg:session_id>/reports",
            api.SessionReport.as_view(),
            name="flexready-session-report",
        ),
    ]
    for prefix, name_prefix, described in PREFIXES:
        for route, view, name in RESOURCES:
            callback = view.as_view() if described else view.as_view(schema=None)
            patterns.append(
                path(f"{prefix}{route}", callback, name=f"flexready-{name_prefix}{name}")
            )
    return patterns


urlpatterns = _patterns()
