"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, require
from tests.hub.test_portal_support import totp_code

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# there (creating users, reading devices) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    require(CHROMIUM.exists(), "needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def portal_url(live_server, settings) -> str:
    """The live server's URL on ``localhost``: a secure context, as WebAuthn requires."""
    url = live_server.url.replace("127.0.0.1", "localhost")
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [url]
    return url


@pytest.fixture
def page(browser, portal_url) -> Iterator[object]:
    context = browser.new_context(base_url=portal_url, locale="fr-FR")  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, email: str, device, *, start: str = "/") -> None:  # type: ignore[no-untyped-def]
    """Password, then the TOTP app's code, as a person signs in from ``start``; on ``/`` it waits
    for the dashboard, elsewhere the caller waits for the page the sign-in leads back to."""
    page.goto(start)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r"/accounts/second-factor/"))
    page.fill("input[name=code]", totp_code(device))
    page.click("#code-submit")
    if start == "/":
        page.wait_for_selector("#dashboard-title")
