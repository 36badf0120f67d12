"""Every URL that takes an object id answers 404 for another organisation's object.

The URL conf is walked, so a new endpoint or page with an id cannot escape: an id-taking route
without an entry in FOREIGN_KWARGS fails the test until it is given one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from hub.models import Job, JobStatus, MeteringPoint, Site
from hub.services.notifications import notify
from hub.services.series import ensure_series
from hub.services.tokens import create_token
from smartoa.services import create_contract
from tests.conftest import Tenant
from tests.hub.test_portal_support import enrol_totp, sign_in

# Routes whose parameters are not object ids of an organisation.
NOT_OBJECT_IDS = (
    "admin/",
    "webauthn/",
    "sim/",
    "accounts/password/reset/",
    "static/",
    "api/v1/problems/",
)


def walk(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and _takes_parameters(entry):
            yield route


def _takes_parameters(entry: URLPattern) -> bool:
    return bool(getattr(entry.pattern, "converters", None) or entry.pattern.regex.groupindex)


# Valid query parameters, so an endpoint answers about the object, not about a missing field.
QUERY = {
    "day": "2025-09-22",
    "date": "2025-09-22",
    "start": "2026-01-01T00:00:00Z",
    "end": "2026-01-02T00:00:00Z",
}


def routes_with_ids() -> list[str]:
    routes = [r for r in walk(get_resolver().url_patterns) if not r.startswith(NOT_OBJECT_IDS)]
    # DRF's format-suffix variants repeat each route; the plain one is enough.
    return sorted({r for r in routes if "format" not in r})


def _contract(foreign: Tenant) -> dict[str, Any]:
    point = MeteringPoint.objects.create(
        organisation=foreign.organisation, kind="oa_site", identifier="BOA-FOREIGN-1"
    )
    contract = create_contract(
        organisation=foreign.organisation,
        contract_id="BOA-FOREIGN-1",
        account_id="x",
        api_token="upstream-secret",
        metering_point=point,
    )
    return {"contract_id": contract.contract_id}


def _series(foreign: Tenant) -> dict[str, Any]:
    return {
        "pk": ensure_series(metering_point=foreign.point, quantity="q", unit="W", source="t").pk
    }


def _notification(foreign: Tenant) -> dict[str, Any]:
    notification = notify(
        organisation=foreign.organisation, source="t", kind="k", title="theirs", now=timezone.now()
    )
    return {"pk": notification.pk}


def _job(foreign: Tenant) -> dict[str, Any]:
    job = Job.objects.create(
        organisation=foreign.organisation,
        kind="grdf.export",
        label="theirs",
        status=JobStatus.SUCCEEDED,
        created_at=timezone.now(),
    )
    job.result_file.save("theirs.csv", ContentFile(b"secret;data\r\n"))
    return {"pk": job.pk}


FOREIGN_KWARGS: dict[str, Callable[[Tenant], dict[str, Any]]] = {
    "sites": lambda f: {"pk": Site.objects.create(organisation=f.organisation, name="theirs").pk},
    "metering-points": lambda f: {"pk": f.point.pk},
    "series": _series,
    "smartoa/contracts": _contract,
    "tokens": lambda f: {"pk": create_token(organisation=f.organisation, name="theirs").token.pk},
    "security/devices": lambda f: {"kind": "totp", "pk": enrol_totp(f.admin).pk},
    "notifications": _notification,
    "jobs": _job,
}
# Parameters that are names in the caller's own namespace, not references to an object: another
# organisation's name must answer as a name never used (see test_caller_scoped_names...).
CALLER_SCOPED: set[str] = set()
# Each domain app's tests may add their own routes' factories in ``tests/<app>/foreign_objects.py``
# (a ``FOREIGN_KWARGS`` dict of the same shape, and optionally ``CALLER_SCOPED`` names), next to
# the code that knows those objects.
for _app in ("grdf_access", "flexready", "tic", "smartoa", "hub.control"):
    try:
        _module = importlib.import_module(f"tests.{_app}.foreign_objects")
    except ModuleNotFoundError:
        continue
    FOREIGN_KWARGS.update(_module.FOREIGN_KWARGS)
    CALLER_SCOPED.update(getattr(_module, "CALLER_SCOPED", ()))


def parameters(route: str) -> set[str]:
    import re

    return {m.split(":")[-1] for m in re.findall(r"<([^>]+)>", route)} | set(
        re.findall(r"\(\?P<(\w+)>", route)
    )


def caller_scoped(route: str) -> bool:
    return bool(parameters(route)) and parameters(route) <= CALLER_SCOPED


def fill(route: str, kwargs: dict[str, Any]) -> str:
    import re

    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        return str(kwargs[name])

    path = re.sub(r"<([^>]+)>", value, route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m.group(1)]), path)
    return "/" + path.lstrip("^").rstrip("$").replace("\\.", ".").replace("/?", "/")


@pytest.mark.parametrize("route", [r for r in routes_with_ids() if not caller_scoped(r)])
@pytest.mark.django_db
def test_foreign_object_answers_404(route, tenant, foreign, client):
    # The most specific key wins: "smartoa/contracts" before "tokens" for a contract's tokens.
    keys = sorted((key for key in FOREIGN_KWARGS if key in route), key=len, reverse=True)
    assert keys, f"{route} takes an id: add it to FOREIGN_KWARGS"
    factory = FOREIGN_KWARGS[keys[0]]
    url = fill(route, factory(foreign))
    if route.startswith("api/"):
        api = APIClient()
        mine = create_token(organisation=tenant.organisation, name="mine").plaintext
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {mine}")
        responses = [api.get(url, QUERY), api.post(url, {}, format="json")]
    else:
        sign_in(client, tenant.admin)
        responses = [client.get(url, QUERY), client.post(url, {})]
    codes = {r.status_code for r in responses} - {405}
    assert codes == {404}, (url, [(r.status_code, r.content[:200]) for r in responses])


def _unnamed(content: bytes, kwargs: dict[str, Any]) -> bytes:
    for name, value in kwargs.items():
        content = content.replace(str(value).encode(), f"<{name}>".encode())
    return content


@pytest.mark.parametrize("route", [r for r in routes_with_ids() if caller_scoped(r)])
@pytest.mark.django_db
def test_caller_scoped_names_answer_as_unknown_ones(route, tenant, foreign):
    """A name another organisation already uses answers exactly as a name never used."""
    keys = sorted((key for key in FOREIGN_KWARGS if key in route), key=len, reverse=True)
    assert keys, f"{route} takes an id: add it to FOREIGN_KWARGS"
    theirs = FOREIGN_KWARGS[keys[0]](foreign)
    never = {name: f"never-used-{name}" for name in theirs}
    api = APIClient()
    mine = create_token(organisation=tenant.organisation, name="mine").plaintext
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {mine}")
    answers = []
    for kwargs in (theirs, never):
        url = fill(route, kwargs)
        get, post = api.get(url, QUERY), api.post(url, {}, format="json")
        # A problem's "instance" is the path asked for: the name itself, and nothing else.
        answers.append([(r.status_code, _unnamed(r.content, kwargs)) for r in (get, post)])
    assert answers[0] == answers[1], (route, answers)
    assert all(code < 500 for code, _ in answers[0])
