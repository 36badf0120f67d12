"""Every portal page renders in French: no English words, no raw codes (issue 19, point 3)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from hub.demo import DEMO_EMAIL
from hub.models import MqttBroker, User
from tests.conftest import PASSWORD
from tests.hub.test_portal_support import sign_in

pytestmark = pytest.mark.django_db

# Portal prefixes: the API, the admin, the simulators and the health probes are not pages.
PORTAL_PREFIXES = ("", "tic/", "smartoa/", "flexready/", "grdf/", "control/")
SKIPPED_PREFIXES = ("api/", "admin/", "sim/", "webauthn/", "healthz", "readyz", "accounts/")

# English words a French page must not show (whole words, outside code and attributes).
ENGLISH = {
    "the",
    "and",
    "success",
    "failed",
    "error",
    "pending",
    "running",
    "done",
    "none",
    "true",
    "false",
    "read",
    "write",
    "revoked",
    "expired",
    "yes",
    "no",
    "accepted",
    "rejected",
    "confirmed",
    "cancelled",
    "received",
    "requested",
    "delivered",
    "settings",
    "login",
    "logout",
    "password",
    "submit",
    "save",
    "delete",
    "edit",
    "dashboard",
    "tokens",
    "unknown",
    "ok",
    "late",
    "live",
    "down",
    "up",
}
# Raw enum values: upper-case codes and snake_case codes the portal once showed as-is.
RAW = re.compile(r"\b(?:[A-Z]{2,}_[A-Z_]+|[a-z]+_[a-z_]+|\d+M)\b")


def grdf_names() -> set[str]:
    """GRDF's own names of its publications and services (the VEGA catalogue, from GRDF's
    slides: ``CONSO_MASS``, « Relèves 1M »): proper names shown as GRDF writes them, not codes
    of ours."""
    from grdf_access.vega.models import CatalogueItem

    names = set()
    for code, name in CatalogueItem.objects.values_list("code", "name"):
        names |= set(RAW.findall(f"{code} {name}"))
    return names


def grdf_words() -> set[str]:
    """Words of GRDF's own texts in the VEGA catalogue (service names such as « Suivi demande »,
    GRDF's recommendations), quoted in French as GRDF wrote them, whatever the page's language."""
    from grdf_access.vega.models import CatalogueItem

    words = set()
    for row in CatalogueItem.objects.values_list("name", "replacement", "recommendation", "notes"):
        words |= set(re.findall(r"[^\W\d_]+", " ".join(row)))
    return words


FRENCH_COLON = re.compile(r"\S{1,20}[ \u00a0\u202f]:(?=\s)")


def grdf_colons() -> set[str]:
    """Colons set the French way inside GRDF's own texts (VEGA catalogue, release notes)."""
    from grdf_access.vega.models import CatalogueItem, ItemVersion, Release, ReleaseDateChange

    texts = [" ".join(row) for row in CatalogueItem.objects.values_list("replacement", "notes")]
    texts += list(CatalogueItem.objects.values_list("recommendation", flat=True))
    for model in (Release, ReleaseDateChange, ItemVersion):
        texts += list(model.objects.values_list("note", flat=True))
    return {repr(m) for text in texts for m in FRENCH_COLON.findall(text)}


def visible_text(html: str) -> str:
    """The page's text as a user reads it: no tags, scripts, styles, code or attributes."""
    html = re.sub(r"(?is)<(script|style|code|pre|template|textarea)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)
    return re.sub(r"&[#\w]+;", " ", html)


def walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def demo_arguments() -> dict[str, str]:
    """One demo row for each URL parameter of the portal's detail pages."""
    from flexready.models import Asset, FlexRequest
    from grdf_access.models import AccessRight, Pce
    from hub.control.models import SiteControl
    from smartoa.models import Contract
    from tic.models import TicMeter

    def first(model, field: str = "pk") -> str:
        row = model.objects.order_by("pk").first()
        return str(getattr(row, field)) if row else ""

    return {
        "meters/<int:pk>": first(TicMeter),
        "contracts/<str:contract_id>": first(Contract, "contract_id"),
        "assets/<int:pk>": first(Asset),
        "requests/<int:pk>": first(FlexRequest),
        "droits/<int:right_pk>": first(AccessRight),
        "pce/<str:pce>": first(Pce, "identifier"),
        "sites/<int:pk>": first(SiteControl),
    }


def portal_paths() -> list[str]:
    arguments = demo_arguments()
    paths = []
    for route, _pattern in walk(get_resolver().url_patterns):
        if route.startswith(SKIPPED_PREFIXES) or route.endswith((".json", ".csv")):
            continue
        for placeholder, value in arguments.items():
            if placeholder in route and value:
                route = route.replace(placeholder, placeholder.split("/")[0] + "/" + value)
        if "<" in route:
            continue
        paths.append("/" + route)
    assert len(paths) > 20, paths
    return sorted(set(paths))


def signed_in_demo(client: Client, settings) -> None:
    """The demo organisation (``seed_demo``) and its user, signed in with a second factor."""
    settings.DEBUG = True
    call_command("seed_demo")
    user = User.objects.get(email=DEMO_EMAIL)
    user.set_password(PASSWORD)
    user.save()
    # The MQTT broker page with settings to show (disabled: nothing is published to it).
    MqttBroker.objects.create(
        organisation=user.memberships.get().organisation, host="127.0.0.1", enabled=False
    )
    sign_in(client, user)


# A browser's own date picker shows the browser's locale (mm/dd/yyyy in an English Chromium),
# not the page's: "date inputs localised" (issue 19) means none of these on a portal page.
NATIVE_DATE = re.compile(r'<input[^>]*type="(?:date|datetime-local|month|week|time)"', re.I)


def date_offences(html: str, placeholder: str) -> set[str]:
    """Native date inputs, and date text inputs without the page language's format shown."""
    found = set(NATIVE_DATE.findall(html))
    for tag in re.findall(r"<input[^>]*>", html):
        dated = "JJ/MM/AAAA" in tag or "DD/MM/YYYY" in tag
        if dated and f'placeholder="{placeholder}' not in tag:
            found.add(tag)
    return found


def test_every_portal_page_is_in_french(client: Client, settings) -> None:
    signed_in_demo(client, settings)
    offences: dict[str, set[str]] = {}
    seen: list[str] = []
    dated = 0
    for path in portal_paths():
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        seen.append(path)
        html = response.content.decode()
        dates = date_offences(html, "JJ/MM/AAAA")
        dated += html.count('placeholder="JJ/MM/AAAA')
        if dates:
            offences[path] = dates
            continue
        text = visible_text(html)
        words = {w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH}
        raw = set(RAW.findall(text)) - grdf_names()
        if words or raw:
            offences[path] = words | raw
    assert len(seen) > 20, seen
    assert "/mqtt/" in seen
    assert dated >= 10, dated  # the demo's pages do have date fields, in French format
    assert not offences, offences


# French words an English page must not show (the catalogue in locale/en covers every message).
FRENCH = {
    "aucun",
    "aucune",
    "tableau",
    "droits",
    "jamais",
    "relève",
    "enregistrer",
    "modifier",
    "supprimer",
    "demande",
    "sécurité",
    "déconnecter",
    "réussi",
    "échoué",
    # Codes that reach pages as data: a TIC calendar's name, an Ecowatt level, a meter family.
    "distributeur",
    "fournisseur",
    "rouge",
    "pmepmi",
}


def test_every_portal_page_is_in_english_once_chosen(client: Client, settings) -> None:
    """The language switch in the page header: the same pages, every message in English."""
    signed_in_demo(client, settings)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "Dashboard" in client.get("/").content.decode()
    offences: dict[str, set[str]] = {}
    quoted = grdf_colons()
    for path in portal_paths():
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        text = visible_text(html)
        words = {w for w in re.findall(r"[^\W\d_]+", text) if w.lower() in FRENCH}
        words -= grdf_words()
        words |= date_offences(html, "DD/MM/YYYY")
        # French puts a space before a colon, English does not ("State: done").
        words |= {repr(m) for m in FRENCH_COLON.findall(text)} - quoted
        if words:
            offences[path] = words
    assert not offences, offences
