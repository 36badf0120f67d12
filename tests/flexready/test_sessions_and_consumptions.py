"""Certification sessions (create, journal, report, foreign ids), consumptions, the beat task."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from flexready import tasks
from flexready.journal import session_for
from flexready.models import CertificationSession, FlexRequest, JournalEntry, RequestStatus
from tests.api_problems import field_errors
from tests.flexready.conftest import hourly_curve, make_jwt, paris

BACS_1 = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
ASSET = f"bacs/{BACS_1}/assets/WholeBuilding"


def test_create_session_then_report(jwt_client: APIClient) -> None:
    response = jwt_client.post("/api/v1/sessions?emulator_module=operator")
    assert response.status_code == 201
    session_id = response.json()["session_id"]
    assert jwt_client.get(f"/api/v1/{session_id}/operator/bacs").status_code == 200
    assert jwt_client.get(f"/api/v1/{session_id}/operator/bacs/nope").status_code == 404
    entries = JournalEntry.objects.filter(session__session_id=session_id)
    assert [(e.method, e.status) for e in entries] == [("GET", 200), ("GET", 404)]
    report = jwt_client.post(f"/api/v1/sessions/{session_id}/reports")
    assert report.status_code == 200
    assert report.content.startswith(b"%PDF")
    # Asking for the report is not a call of the session.
    assert entries.count() == 2


def test_unknown_session_report_is_404(jwt_client: APIClient) -> None:
    assert jwt_client.post("/api/v1/sessions/never-used/reports").status_code == 404
    assert not CertificationSession.objects.filter(session_id="never-used").exists()


def test_another_organisations_session_id_is_like_an_unknown_one(
    jwt_client: APIClient, foreign: Any
) -> None:
    """A session id belongs to one organisation: another organisation using the same id gets
    what an unknown id gets (its own session, made on first use) and never the first one's."""
    theirs = session_for(
        organisation=foreign.organisation, session_id="theirs", now=paris(2026, 1, 1), created_by=""
    )
    JournalEntry.objects.create(
        session=theirs, at=paris(2026, 1, 1), duration_ms=1, method="GET", path="/x", status=200
    )
    # The report of an id this organisation never used: 404, as for "never-used".
    assert jwt_client.post("/api/v1/sessions/theirs/reports").status_code == 404
    assert jwt_client.post("/api/v1/sessions/never-used/reports").status_code == 404
    for session_id in ("theirs", "never-seen"):
        response = jwt_client.get(f"/api/v1/{session_id}/operator/bacs")
        assert response.status_code == 200
    ours = CertificationSession.objects.exclude(organisation=foreign.organisation)
    assert set(ours.values_list("session_id", flat=True)) == {"theirs", "never-seen"}
    # The other organisation's session and journal are untouched.
    theirs.refresh_from_db()
    assert theirs.organisation == foreign.organisation
    assert list(theirs.entries.values_list("path", flat=True)) == ["/x"]
    report = jwt_client.post("/api/v1/sessions/theirs/reports")
    assert report.status_code == 200


def test_refused_calls_are_journalled_too(annex: Any) -> None:
    bad = APIClient()
    token = make_jwt()
    bad.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/s-9/operator/{ASSET}/flexibilities/request"
    response = bad.post(
        url,
        {"requestID": "x", "power": "lots"},
        format="json",
        headers={"EMULATOR_Authorization": "Bearer forwarded-secret"},
    )
    assert response.status_code == 400
    (entry,) = JournalEntry.objects.filter(session__session_id="s-9")
    assert entry.status == 400 and "flexProduct" in entry.response_body
    # Forwarded credentials are masked like the caller's own.
    assert entry.request_headers["Emulator-Authorization"] == "Bearer ***"
    assert "forwarded-secret" not in str(entry.request_headers)


def test_too_long_session_id_is_400(jwt_client: APIClient) -> None:
    response = jwt_client.get(f"/api/v1/{'s' * 101}/operator/bacs")
    assert response.status_code == 400
    assert "session_id" in field_errors(response)


def test_aggregated_consumptions_by_local_day_across_dst(
    jwt_client: APIClient, tenant: Any
) -> None:
    hourly_curve(
        tenant.point,
        first=dt.date(2026, 3, 28),
        last=dt.date(2026, 3, 30),
        watts=lambda local: 1000.0,
    )
    response = jwt_client.get(
        f"/api/v1/operator/{ASSET}/consumptions/aggregated",
        {"start": "2026-03-28T00:00:00", "end": "2026-03-31T00:00:00", "step": "1d"},
    )
    assert response.status_code == 200, response.content
    days = response.json()["consumptions"]
    # 1 kW for 24, 23 and 24 hours: kWh per local day.
    assert [d["value"]["value"] for d in days] == [24.0, 23.0, 24.0]
    assert [d["start"][:10] for d in days] == ["2026-03-28", "2026-03-29", "2026-03-30"]
    assert days[0]["value"]["unit"] == "Wh" and days[0]["value"]["multiplier"] == "k"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"step": "7min"}, "step"),
        ({"start": "2026-03-02T00:00:00", "end": "2026-03-01T00:00:00"}, "end"),
        ({"start": "2020-01-01T00:00:00", "end": "2026-01-01T00:00:00"}, "start"),
        ({"start": "soon"}, "start"),
    ],
)
def test_bad_consumption_queries_are_400(
    jwt_client: APIClient, tenant: Any, query: dict[str, str], field: str
) -> None:
    hourly_curve(
        tenant.point, first=dt.date(2026, 3, 1), last=dt.date(2026, 3, 1), watts=lambda _: 1.0
    )
    response = jwt_client.get(f"/api/v1/operator/{ASSET}/consumptions/aggregated", query)
    assert response.status_code == 400, response.content
    assert field in field_errors(response)


def test_consumptions_without_meter_series_is_404(jwt_client: APIClient) -> None:
    assert jwt_client.get(f"/api/v1/operator/{ASSET}/consumptions").status_code == 404


def test_beat_task_moves_due_requests(annex: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from flexready.models import Asset

    asset = Asset.objects.get(bacs__bacs_id=BACS_1)
    now = dt.datetime.now(dt.UTC)
    due = FlexRequest.objects.create(
        asset=asset,
        request_id="due",
        flex_product="WID",
        program=[],
        start=now - dt.timedelta(minutes=1),
        end=now + dt.timedelta(minutes=1),
        status=RequestStatus.CONFIRMED,
        received_at=now - dt.timedelta(hours=1),
    )
    later = FlexRequest.objects.create(
        asset=asset,
        request_id="later",
        flex_product="WID",
        program=[],
        start=now + dt.timedelta(hours=1),
        end=now + dt.timedelta(hours=2),
        status=RequestStatus.CONFIRMED,
        received_at=now - dt.timedelta(hours=1),
    )
    assert tasks.advance_requests() == 1
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == (RequestStatus.ACTIVE, RequestStatus.CONFIRMED)


SECRET_HEADERS = {
    "X-Api-Key": "key-123",
    "X-Auth-Token": "tok-123",
    "X-Refresh-Token": "tok-456",
    "X-Client-Secret": "sec-123",
    "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0",
    "EMULATOR_Api_Key": "key-456",
    "EMULATOR_X-Password": "pw-123",
}


def _pdf_text(pdf: bytes) -> str:
    import re
    import zlib

    text = []
    # The end-of-line before ``endstream`` stays in the match: compressed data may itself end
    # with a CR, which a pattern eating an optional CR there would cut off. A decompressor
    # object stops at the end of the compressed data and leaves what follows aside.
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            text.append(zlib.decompressobj().decompress(stream).decode("latin-1"))
        except zlib.error:
            text.append(stream.decode("latin-1"))
    return "\n".join(text)


def test_credential_like_headers_are_masked_in_the_journal_and_the_report(
    jwt_client: APIClient,
) -> None:
    """The journal keeps every header of a call, but never a credential: any header whose
    name says key, token, secret, password or authorization is stored masked."""
    response = jwt_client.get(
        "/api/v1/masked/operator/bacs", headers={**SECRET_HEADERS, "X-Trace": "visible-1"}
    )
    assert response.status_code == 200
    (entry,) = JournalEntry.objects.filter(session__session_id="masked")
    stored = str(entry.request_headers)
    for value in SECRET_HEADERS.values():
        assert value not in stored
    assert entry.request_headers["Proxy-Authorization"] == "Basic ***"
    assert entry.request_headers["X-Api-Key"] == "***"
    assert entry.request_headers["X-Trace"] == "visible-1"
    # An entry stored unmasked (before a header name was known as secret) is masked in the PDF.
    JournalEntry.objects.filter(pk=entry.pk).update(
        request_headers={**entry.request_headers, "X-Session-Token": "legacy-secret"}
    )
    report = jwt_client.post("/api/v1/sessions/masked/reports")
    text = _pdf_text(report.content)
    assert "visible-1" in text
    assert "legacy-secret" not in text and "X-Session-Token: ***" in text
