"""The VEGA portal pages, in French; readers see, operators change."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from grdf_access.vega.models import Arrival, ExpectedPublication, Usage
from tests.hub.test_portal_support import sign_in

pytestmark = pytest.mark.django_db

PAGES = {
    "/grdf/vega/": "Passage d'OMEGA à VEGA : ce que vous devez changer, et quand",
    "/grdf/vega/catalogue/": "Catalogue VEGA des flux et services",
    "/grdf/vega/veille/": "Veille des publications GRDF",
    "/grdf/vega/estimes/": "PCE estimés : relevés spéciaux gratuits",
}


def test_pages_are_in_french(client, tenant):
    sign_in(client, tenant.viewer)
    for url, heading in PAGES.items():
        page = client.get(url)
        assert page.status_code == 200, url
        assert heading in page.content.decode()
    catalogue = client.get("/grdf/vega/catalogue/").content.decode()
    assert "Suivi des demandes" in catalogue and "(fin V14)" in catalogue
    assert 'href="/grdf/vega/"' in client.get("/").content.decode()  # in the portal menu


def test_operator_declares_a_usage_and_exports(client, tenant):
    sign_in(client, tenant.operator)
    bad = client.post("/grdf/vega/", {"code": "SDEM", "version": "V3"})
    assert bad.status_code == 400 and "version inconnue" in bad.content.decode()
    assert client.post("/grdf/vega/", {"code": "SDEM", "version": "v14"}).status_code == 302
    assert Usage.objects.get().version == "V14"
    page = client.get("/grdf/vega/").content.decode()
    assert "V26.1 → V27.1" in page and "date de fin à annoncer" in page
    exported = client.get("/grdf/vega/export.csv")
    assert exported["Content-Type"].startswith("text/csv")
    assert client.get("/grdf/vega/export.pdf").status_code == 404


def test_viewer_cannot_change(client, tenant):
    sign_in(client, tenant.viewer)
    assert client.post("/grdf/vega/", {"code": "SDEM", "version": "V14"}).status_code == 403
    assert not Usage.objects.exists()


def test_watch_page_upload_and_expected(client, tenant):
    sign_in(client, tenant.operator)
    answer = client.post(
        "/grdf/vega/veille/",
        {"code": "REJJ", "cadence": "working_days", "expected_time": "09:00", "grace_minutes": 30},
    )
    assert answer.status_code == 302
    assert ExpectedPublication.objects.get().item.code == "REJJ"
    upload = SimpleUploadedFile("TEMP_V1_20261026.csv", b"")
    answer = client.post("/grdf/vega/veille/", {"upload": "1", "file": upload}, follow=True)
    assert "fichier vide" in answer.content.decode()
    arrival = Arrival.objects.get()
    assert (arrival.flux_code, arrival.version, arrival.source) == ("TEMP", "V1", "portal")


def test_estimated_import_shows_line_numbers(client, tenant):
    sign_in(client, tenant.operator)
    upload = SimpleUploadedFile("liste.csv", b"pce\nGI123456\nZZ\n")
    answer = client.post("/grdf/vega/estimes/", {"mois": "2026-10", "file": upload})
    assert answer.status_code == 400
    assert "ligne 3 — pce" in answer.content.decode()
