"""A dependency going down: the API and portal answer 503 naming it, or keep serving; never 500.

Fault test: a throw-away ``redis-server`` on a free port carries the cache and the broker; it is
stopped between API calls.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
from django.db import OperationalError, connection
from django.test import Client
from rest_framework.test import APIClient

from hub.celery import app
from hub.services.tokens import create_token
from tests.api_problems import problem
from tests.hub.test_portal_support import sign_in

pytestmark = pytest.mark.django_db


def _refuse_queries(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


def test_database_outage_answers_json_503_in_the_api(tenant):
    """Finding: "A database outage answers 503 (JSON for the API), not a 500 HTML page"."""
    client = APIClient(raise_request_exception=False)
    token = create_token(organisation=tenant.organisation, name="t").plaintext
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with connection.execute_wrapper(_refuse_queries):
        response = client.get("/api/v1/metering-points/")
    assert response.status_code == 503
    body = problem(response, 503)
    assert body["type"] == "/api/v1/problems/dependency-down"
    assert body["unavailable"] == "database"
    assert int(response["Retry-After"]) > 0


def test_database_outage_answers_503_page_in_the_portal(tenant):
    client = Client(raise_request_exception=False)
    sign_in(client, tenant.operator)
    with connection.execute_wrapper(_refuse_queries):
        response = client.get("/")
    assert response.status_code == 503
    assert "indisponible" in response.content.decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def throwaway_redis(tmp_path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server must be installed (CI installs it)"
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    probe = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + 15
    while True:  # readiness of a process we just started, not a race being papered over
        try:
            probe.ping()
            break
        except redis.exceptions.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    try:
        yield url, process
    finally:
        process.kill()
        process.wait(timeout=10)


def _use_broker(url: str) -> None:
    app.conf.broker_url = url
    # The producer pool is picked per broker URL (kombu keeps one per connection).
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_backed(settings, throwaway_redis) -> Iterator[subprocess.Popen[bytes]]:
    url, process = throwaway_redis
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "hub.cache.FailoverRedisCache",
            "LOCATION": url,
            "OPTIONS": {"retry_seconds": 0},
        },
    }
    previous = app.conf.broker_url
    _use_broker(url)
    try:
        yield process
    finally:
        _use_broker(previous)


def test_api_keeps_serving_reads_and_writes_when_redis_stops(tenant, redis_backed, caplog):
    """Finding: "A Redis outage makes 100 % of API calls 500 (throttles read the cache)".
    With the database up, reads and writes keep working; throttling degrades to a local
    in-process limit, logged once; /readyz names what is down."""
    client = APIClient(raise_request_exception=False)
    token = create_token(organisation=tenant.organisation, name="outage").plaintext
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/metering-points/").status_code == 200
    assert Client().get("/readyz").status_code == 200

    redis_backed.kill()
    redis_backed.wait(timeout=10)
    caplog.set_level(logging.ERROR, logger="hub.cache")
    statuses = []
    for index in range(5):
        statuses.append(client.get("/api/v1/metering-points/").status_code)
        created = client.post("/api/v1/sites/", {"name": f"Site {index}"}, format="json")
        statuses.append(created.status_code)
    assert statuses == [200, 201] * 5
    # Still counted, in this process: the headers keep coming.
    assert client.get("/api/v1/sites/").headers["RateLimit-Remaining"]
    assert [r.message for r in caplog.records if r.name == "hub.cache"] == [
        "cache unreachable, counting in process memory until it is back"
    ]
    ready = Client().get("/readyz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["cache"].startswith("error") and checks["broker"].startswith("error")


@pytest.mark.django_db(transaction=True)
def test_an_action_needing_the_broker_answers_503_when_it_is_down(tenant, redis_backed):
    """Finding: "the portal's 'fetch now' 500s on the broker". The action answers 503 with a
    clear message; the page itself still reads."""
    from smartoa.services import create_contract

    contract = create_contract(
        organisation=tenant.organisation,
        contract_id="BOA-OUTAGE-000001",
        account_id="x",
        api_token="upstream-secret",
    )
    client = Client(raise_request_exception=False)
    sign_in(client, tenant.operator)
    page = f"/smartoa/contracts/{contract.contract_id}/"
    assert client.post(page + "fetch/").status_code == 302

    redis_backed.kill()
    redis_backed.wait(timeout=10)
    refused = client.post(page + "fetch/")
    assert refused.status_code == 503
    assert "file des tâches" in refused.content.decode()
    assert client.get(page).status_code == 200
