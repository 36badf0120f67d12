"""GRDF in a real browser: import PCEs from a CSV, the rights table, a histogram, an XLSX export."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path

import httpx
import pytest
from django.utils import timezone
from openpyxl import load_workbook

import hub.wsgi
from grdf_access import adict_gateway, csv_import, simulator
from grdf_access import tasks as grdf_tasks
from grdf_access.client import RateLimiter
from hub.clock import gas_day_of, local_day_of
from hub.http import clear_token_cache
from hub.models import Membership, Organisation, Role, User
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.hub.test_portal_support import enrol_totp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def grdf_in_process(in_process_wsgi, monkeypatch):
    """The live server's calls to GRDF reach the simulator in-process (no port of its own)."""
    simulator.reset()
    clear_token_cache()
    monkeypatch.setattr(
        adict_gateway,
        "default_transport",
        lambda: httpx.WSGITransport(app=hub.wsgi.application, remote_addr="127.0.0.1"),
    )
    monkeypatch.setattr(adict_gateway, "default_rate_limiter", lambda: RateLimiter(1000, burst=100))
    yield
    simulator.reset()


def test_import_rights_table_histogram_and_xlsx_export(page, grdf_in_process, tmp_path: Path):
    organisation = Organisation.objects.create(slug="e2e-gaz", name="Gaz E2E")
    user = User.objects.create_user("gaz@e2e.example", PASSWORD)
    Membership.objects.create(user=user, organisation=organisation, role=Role.OPERATOR)
    device = enrol_totp(user)
    today = local_day_of(timezone.now())
    start = today - dt.timedelta(days=75)
    rows = [
        ";".join(csv_import.COLUMNS),
        *(
            ";".join(
                {
                    "pce": pce,
                    "role": "titulaire",  # a holder's right is Active at once
                    "raison_sociale": "Client E2E",
                    "code_postal": "69003",
                    "debut_consentement": start.strftime("%d/%m/%Y"),
                    "fin_consentement": (today + dt.timedelta(days=365)).strftime("%d/%m/%Y"),
                    "debut_donnees": start.strftime("%d/%m/%Y"),
                    "fin_donnees": (today + dt.timedelta(days=365)).strftime("%d/%m/%Y"),
                    "informatives_journalieres": "oui",
                    "libelle_site": site,
                }.get(column, "")
                for column in csv_import.COLUMNS
            )
            for pce, site in (("GI111111", "Appel d'offres #1"), ("GI222222", "Appel d'offres #2"))
        ),
    ]
    upload = tmp_path / "pce.csv"
    upload.write_text("\n".join(rows) + "\n", encoding="utf-8")

    sign_in(page, user.email, device)

    page.click("header nav >> text=GRDF")
    page.wait_for_selector("#grdf-rights-title")
    page.click("#grdf-nav >> text=Import en masse")
    page.set_input_files("input[name=file]", str(upload))
    page.click("#import-dry-run")
    page.wait_for_selector("#import-report")
    assert "2 lignes valides" in page.inner_text("#import-report")
    page.click("#import-confirm")
    page.wait_for_selector("#rights")
    table = page.inner_text("#rights")
    assert "GI111111" in table and "GI222222" in table and "Actif" in table

    # The sync leaves the request: the job's page polls (htmx) until the worker is done.
    page.click("#grdf-sync")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]+/$"))
    assert page.inner_text("#job-status") == "en attente"
    synced_at = timezone.now()
    assert grdf_tasks.sync_job(job_id=page.url.rstrip("/").rsplit("/", 1)[-1]) == "succeeded"
    page.wait_for_selector("#job-result")
    assert "valeur(s) enregistrée(s)" in page.inner_text("#job-result")
    assert page.inner_text("#job-status") == "terminée"
    page.click("#job >> text=Retour")
    page.wait_for_selector("#rights")
    page.fill("#rights-filters input[name=site_label]", "#2")
    page.click("#rights-filters button")
    page.wait_for_url(re.compile(r"site_label="))
    assert page.locator("#rights tbody tr").count() == 1

    page.click("text=GI222222")
    page.wait_for_selector("#pce-title")
    page.fill("#consumption-form input[name=debut]", start.strftime("%d/%m/%Y"))
    page.select_option("#step", "month")
    page.click("#consumption-form button")
    page.wait_for_selector("#histogram[data-ready=true]")
    months = page.locator("#consumption tbody tr").count()
    assert months in (3, 4)
    assert page.evaluate("typeof Chart") == "function"
    # The legend under the chart names the colours the bars are drawn in.
    assert "estimée par GRDF" in page.inner_text("#histogram-legend")
    if os.environ.get("GRDF_SCREENSHOT"):
        page.screenshot(path=os.environ["GRDF_SCREENSHOT"], full_page=True)

    page.click("#grdf-nav >> text=Export")
    page.check("input[name=pces][value=GI222222]")
    page.check("input[name=types][value=informatives_journalieres]")
    page.fill("input[name=start]", start.strftime("%d/%m/%Y"))
    page.fill("input[name=end]", today.strftime("%d/%m/%Y"))
    page.select_option("select[name=format]", "xlsx")
    with page.expect_download() as download:
        page.click("#export-submit")
    content = Path(download.value.path()).read_bytes()
    book = load_workbook(io.BytesIO(content))
    values = list(book["Consommations"].values)
    # Labels in the portal's language above the columns; the codes in their own sheet.
    assert values[0][:3] == ("PCE", "Type de données", "Grandeur")
    assert [row[0] for row in book["Codes"].values][1:4] == ["pce", "type", "grandeur"]
    assert {row[0] for row in values[1:]} == {"GI222222"}
    days = (today - start).days
    # Energy and volume per gas day over by the sync: gas day D ends on D+1 at 06:00 Paris,
    # so before 06:00 yesterday's is not. The index is read at each gas day's end: one read
    # today (06:00) falls after the range, and none comes before the consent's start.
    ended = (gas_day_of(synced_at) - start).days
    assert len(values) - 1 == 2 * ended + min(ended, days - 1)
