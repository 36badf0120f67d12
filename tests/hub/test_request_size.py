"""Request bodies are capped before anything reads them: 413, JSON in the API."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from tests.api_problems import problem

pytestmark = pytest.mark.django_db


class CountingStream(io.RawIOBase):
    """The WSGI input of ``size`` bytes, made as read: remembers how many bytes the hub read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        left = self.size - self.bytes_read
        count = left if size is None or size < 0 else min(size, left)
        self.bytes_read += count
        return b" " * count

    def readline(self, size: int | None = -1) -> bytes:
        return self.read(size)


def post_raw(client, path: str, *, size: int, content_type: str):  # type: ignore[no-untyped-def]
    stream = CountingStream(size)
    response = client.generic(
        "POST",
        path,
        content_type=content_type,
        **{"wsgi.input": stream, "CONTENT_LENGTH": str(size)},
    )
    return response, stream


def test_an_api_json_body_over_the_limit_is_a_json_413_read_not_at_all(token_client, settings):
    """Finding: "Uploads are read whole into memory before the size check ... a 150 MB POST grew
    a worker by 150 MB ... answer 413. JSON bodies over the limit get a JSON 400/413 in the API,
    not an HTML page"."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    response, stream = post_raw(
        token_client, "/api/v1/sites/", size=4097, content_type="application/json"
    )
    assert response.status_code == 413
    assert "4096 octets au plus" in problem(response, 413)["detail"]
    assert stream.bytes_read == 0


def test_a_150_mb_upload_to_the_portal_is_refused_unread(tenant):
    client = Client()
    response, stream = post_raw(
        client,
        "/grdf/import/",
        size=150 * 1024 * 1024,
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 413
    assert stream.bytes_read == 0


def test_uploads_may_be_larger_than_other_bodies(token_client, settings):
    """Multipart files stream to disk in chunks, so they get the larger cap."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.HUB_MAX_REQUEST_BYTES = 8000
    response, _stream = post_raw(
        token_client,
        "/api/v1/sites/",
        size=5000,
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code != 413
    response, _stream = post_raw(
        token_client, "/api/v1/sites/", size=9000, content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code == 413


def test_django_refusing_a_request_is_json_in_the_api():
    """Django's own refusals (SuspiciousOperation: here a bad Host) go through handler400."""
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/sites/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    body = problem(response, 400)
    assert (body["type"], body["instance"]) == ("/api/v1/problems/invalid-input", "/api/v1/sites/")
    page = client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


def test_an_unknown_api_path_is_a_json_404():
    """No route: JSON like every other API answer, not the portal's page."""
    response = Client().get("/api/v1/grdf/rights/not-a-number/")
    assert response.status_code == 404
    body = problem(response, 404)
    assert (body["type"], body["instance"]) == ("about:blank", "/api/v1/grdf/rights/not-a-number/")
    assert Client().get("/nowhere/").status_code == 404
