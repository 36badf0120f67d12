"""The site view in a real browser, on the demo: every channel of the demo site on one page."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from hub.clock import local_day_of
from hub.demo import seed_demo
from hub.models import Membership, Role, User
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.hub.test_portal_support import enrol_totp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_demo_site_shows_every_channel_and_links_to_each_app(page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seeded = seed_demo(today=local_day_of(timezone.now()))
    user = User.objects.create_user("viewer@site.example", PASSWORD)
    Membership.objects.create(user=user, organisation=seeded.organisation, role=Role.VIEWER)
    device = enrol_totp(user)

    sign_in(page, user.email, device)
    page.click("header nav >> text=Sites")
    page.wait_for_selector("#sites-title")
    page.click("#site-list >> text=Campus Lyon")
    page.wait_for_selector("#site-title")
    for key in ("tic", "grdf", "smartoa", "flexready", "signals", "control"):
        assert page.get_attribute(f"#panel-{key}", "data-state") == "ok", key
    assert "041436028024" in page.inner_text("#panel-tic")
    assert "GI123456" in page.inner_text("#panel-grdf")
    assert "BOA-2024-000123" in page.inner_text("#panel-smartoa")
    assert "Onduleurs" in page.inner_text("#panel-control")
    page.screenshot(path=str(tmp_path / "site.png"), full_page=True)

    # Each panel leads to its app's own page.
    page.click("#panel-tic >> text=041436028024")
    page.wait_for_url(re.compile(r"/tic/meters/\d+/$"))
