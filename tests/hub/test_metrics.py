"""/metrics: the Prometheus text format through the real endpoint, its access rules, and the
samples of several processes merged (multiprocess mode)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from hub import metrics_dir
from hub.celery import app as celery_app
from hub.models import Series
from hub.series_access import _guards, refusal, register_read_guard
from hub.services.polling import poll_run
from tests.conftest import Tenant, require

TOKEN = "scrape-secret-0123456789"
ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


def scrape(client: Client | None = None, **extra: str) -> dict[tuple[str, tuple], float]:
    """Every sample of the exposition, by (name, sorted labels)."""
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def token(settings):  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    return TOKEN


def test_off_until_a_secret_or_a_network_is_set(settings) -> None:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


def test_refuses_without_or_with_a_wrong_bearer(token: str) -> None:
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": TOKEN}):
        response = Client().get("/metrics", **headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"hub_" not in response.content


@pytest.mark.django_db
def test_an_api_token_does_not_open_it(token: str, tenant: Tenant) -> None:
    """Hub-wide figures: a tenant's API token is not the operator's scrape secret."""
    from hub.services.tokens import create_token

    plaintext = create_token(organisation=tenant.organisation, name="t", scopes=["read"]).plaintext
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert response.status_code == 401


def test_allowed_networks(settings) -> None:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.TRUSTED_PROXIES = []
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.7").get("/metrics").status_code == 401
    # A forwarded address counts only behind a trusted proxy.
    spoofed = Client(REMOTE_ADDR="192.0.2.7").get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert spoofed.status_code == 401


def test_only_get(token: str) -> None:
    response = Client().post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


@pytest.mark.django_db
def test_requests_by_route_name_status_and_latency_never_the_path(token: str) -> None:
    client = Client()
    before = scrape(client)
    assert client.get("/healthz").status_code == 200
    client.get("/no-such-page-4242/")
    client.get("/api/v1/jobs/987654321/")  # an id in the path: a route, not a new series
    after = scrape(client)
    ok = {"route": "healthz", "method": "GET", "status": "200"}
    assert (
        value(after, "hub_http_requests_total", **ok)
        - value(before, "hub_http_requests_total", **ok)
        == 1
    )
    count = "hub_http_request_duration_seconds_count"
    assert value(after, count, route="healthz") - value(before, count, route="healthz") == 1
    routes = {dict(labels).get("route") for (name, labels) in after if name.startswith("hub_http")}
    assert "<unresolved>" in routes
    assert not [r for r in routes if r and ("4242" in r or "987654321" in r or "/" in r)]


@pytest.mark.django_db
def test_poll_runs_by_source_outcome_and_duration(token: str) -> None:
    before = scrape()
    with poll_run(source="ecowatt", target="national", now=NOW):
        pass
    with pytest.raises(RuntimeError), poll_run(source="ecowatt", now=NOW):
        raise RuntimeError("RTE away")
    after = scrape()
    for outcome in ("success", "failed"):
        labels = {"source": "ecowatt", "outcome": outcome}
        delta = value(after, "hub_poll_runs_total", **labels) - value(
            before, "hub_poll_runs_total", **labels
        )
        assert delta == 1
    name = "hub_poll_run_duration_seconds_count"
    assert value(after, name, source="ecowatt") - value(before, name, source="ecowatt") == 2


@pytest.mark.django_db
def test_reads_refused_by_a_consent_gate_are_counted(token: str, tenant: Tenant) -> None:
    series = Series(source="gated-test", quantity="x")
    register_read_guard(source="gated-test", guard=lambda s, a, b, n: "hors consentement")
    try:
        before = scrape()
        assert refusal(series=series, start=NOW, end=NOW, now=NOW) == "hors consentement"
        after = scrape()
    finally:
        _guards.pop("gated-test")
    labels = {"source": "gated-test", "gate": "read_guard"}
    assert (
        value(after, "hub_consent_refusals_total", **labels)
        - value(before, "hub_consent_refusals_total", **labels)
        == 1
    )


def test_celery_task_outcomes(token: str) -> None:
    @celery_app.task(name="tests.metrics.probe")
    def probe(fail: bool) -> int:
        if fail:
            raise ValueError("refused")
        return 1

    before = scrape()
    probe.apply(args=(False,))
    probe.apply(args=(True,))
    after = scrape()
    for outcome in ("success", "failure"):
        labels = {"task": "tests.metrics.probe", "outcome": outcome}
        assert (
            value(after, "hub_celery_tasks_total", **labels)
            - value(before, "hub_celery_tasks_total", **labels)
            == 1
        )


def test_celery_queue_depth_read_from_redis_at_scrape(token: str) -> None:
    broker = django_settings.CELERY_BROKER_URL
    require(broker.startswith("redis"), "a Redis broker (REDIS_URL)")
    import redis

    prefix = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    client = redis.Redis.from_url(broker)
    key = f"{prefix}polling"
    baseline = value(scrape(), "hub_celery_queue_length", queue="polling")
    client.lpush(key, "m1", "m2", "m3")
    client.lpush(f"{key}\x06\x163", "m4")  # kombu's key for priority 3 of the same queue
    try:
        after = value(scrape(), "hub_celery_queue_length", queue="polling")
    finally:
        client.lrem(key, 0, "m1")
        client.lrem(key, 0, "m2")
        client.lrem(key, 0, "m3")
        client.lrem(f"{key}\x06\x163", 0, "m4")
        client.close()
    assert after - baseline == 4


_CHILD = """
import sys
from hub import metrics
metrics.POLL_RUNS.labels("two-processes", "success").inc(int(sys.argv[1]))
metrics.TIC_PORT_UP.labels(sys.argv[2]).set(1)
print("ready", flush=True)
sys.stdin.readline()
"""


def test_two_processes_are_merged_in_one_scrape(token: str, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Multiprocess mode: each process writes its own samples file; /metrics adds the
    counters of both while both run and shows each one's live gauge; a process marked dead
    (gunicorn's ``child_exit``, Celery's ``worker_process_shutdown``) takes its gauges away
    and leaves its counters."""
    root = tmp_path / "metrics"
    env = {
        **{k: v for k, v in os.environ.items() if k != metrics_dir.ENV},
        "HUB_METRICS_DIR": str(root),
        "PYTHONPATH": str(ROOT),
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(count), str(up)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for count, up in ((3, 77), (4, 78))
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        settings.METRICS_DIR = str(root)
        samples = scrape()
    finally:
        for child in children:
            child.communicate("\n", timeout=30)
    dirs = sorted(p.name for p in root.iterdir())
    assert len(dirs) == 2  # one per process that prepared its own (no common parent here)
    labels = {"source": "two-processes", "outcome": "success"}
    assert value(samples, "hub_poll_runs_total", **labels) == 7
    assert value(samples, "hub_tic_port_up", port="77") == 1
    assert value(samples, "hub_tic_port_up", port="78") == 1
    from prometheus_client import multiprocess

    for child, path in zip(children, sorted(root.iterdir(), key=lambda p: p.name), strict=True):
        multiprocess.mark_process_dead(int(path.name.rsplit("-", 1)[1]), str(path))
        assert child.returncode == 0
    after = scrape()
    assert ("hub_tic_port_up", (("port", "77"),)) not in after
    assert value(after, "hub_poll_runs_total", **labels) == 7


def test_start_removes_the_samples_of_ended_runs_only(tmp_path: Path) -> None:
    """Cleaned at start: a directory whose main process has ended goes, a live one stays."""
    import socket

    host = socket.gethostname()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    gone = tmp_path / f"{host}-{ended.pid}"
    alive = tmp_path / f"{host}-{os.getppid()}"
    other_host = tmp_path / f"elsewhere-{ended.pid}"
    for path in (gone, alive, other_host):
        path.mkdir()
        (path / "counter_1.db").write_bytes(b"")
    removed = metrics_dir.sweep(tmp_path)
    assert removed == [gone]
    assert alive.exists() and other_host.exists()


def test_the_grafana_dashboard_reads_only_metrics_the_hub_exports() -> None:
    import json
    import re

    from prometheus_client import Counter, Gauge, Histogram

    from hub import metrics

    exported = {"hub_celery_queue_length"}  # collected at scrape
    for thing in vars(metrics).values():
        if isinstance(thing, Counter):
            exported.add(f"{thing._name}_total")
        elif isinstance(thing, Histogram):
            exported |= {f"{thing._name}_{s}" for s in ("bucket", "sum", "count")}
        elif isinstance(thing, Gauge):
            exported.add(thing._name)
    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bhub_[a-z_]+", target["expr"])
    }
    assert len(used) >= 14
    assert used <= exported, used - exported
