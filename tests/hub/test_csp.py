"""The portal's Content-Security-Policy: scripts only from our origin or with the page's nonce."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.hub.test_portal_support import sign_in

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def policy(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def test_portal_pages_send_a_policy_without_inline_scripts(tenant):
    """Finding: "a Content-Security-Policy for the portal (nonces or hashes for the inline
    scripts, or move them to static files), and keep HSTS"."""
    client = Client()
    sign_in(client, tenant.admin)
    response = client.get("/security/", secure=True)
    assert response.status_code == 200
    directives = policy(response)
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    (nonce,) = [v for v in directives["script-src"] if v.startswith("'nonce-")]
    page = response.content.decode()
    for attributes in SCRIPT_TAG.findall(page):
        executable = "src=" not in attributes and "application/json" not in attributes
        if executable:
            assert f'nonce="{nonce[7:-1]}"' in attributes, attributes
    assert not INLINE_HANDLER.search(page)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_no_template_has_an_inline_script_without_the_nonce_or_an_inline_handler():
    """Every template, rendered or not: inline scripts carry the nonce, handlers are static."""
    offenders = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for attributes in SCRIPT_TAG.findall(text):
            if "src=" not in attributes and "nonce=" not in attributes:
                offenders.append(f"{template.relative_to(ROOT)}: <script{attributes}>")
        if INLINE_HANDLER.search(text):
            offenders.append(f"{template.relative_to(ROOT)}: inline on…= handler")
    assert offenders == []


def test_swagger_ui_runs_without_inline_script(tenant):
    client = Client()
    sign_in(client, tenant.viewer)
    page = client.get("/api/docs/").content.decode()
    assert all("src=" in attributes for attributes in SCRIPT_TAG.findall(page))
