"""The hub's Prometheus metrics: defined here once, incremented by hub and by the apps."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from hub import metrics_dir

logger = logging.getLogger(__name__)

# Labels hold bounded sets only: route names (never a raw path), status codes, poll sources,
# outcomes, task names, queue names, TIC port and meter ids (as many as configured). No
# organisation label: /metrics is the operator's hub-wide view, and tenants x routes would
# multiply the series by the number of customers.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
POLL_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)

HTTP_REQUESTS = Counter(
    "hub_http_requests",
    "HTTP requests answered, by route name, method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "hub_http_request_duration_seconds",
    "Time to answer a request, by route name.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
POLL_RUNS = Counter(
    "hub_poll_runs",
    "Poll runs of external systems, by source and outcome.",
    ["source", "outcome"],
)
POLL_DURATION = Histogram(
    "hub_poll_run_duration_seconds",
    "Duration of a poll run, by source.",
    ["source"],
    buckets=POLL_BUCKETS,
)
HTTP_CLIENT_CALLS = Counter(
    "hub_http_client_requests",
    "Attempts of calls to external APIs, by provider and outcome: the HTTP status, or the name "
    "of the transport error (ConnectError, ReadTimeout...).",
    ["provider", "outcome"],
)
HTTP_CLIENT_LATENCY = Histogram(
    "hub_http_client_request_duration_seconds",
    "Time of an attempt to an external API's response headers (or its error), by provider.",
    ["provider"],
    buckets=LATENCY_BUCKETS,
)
CONSENT_REFUSALS = Counter(
    "hub_consent_refusals",
    "Reads refused by a consent gate, by series source and gate.",
    ["source", "gate"],
)
GRDF_RATE_WAITS = Counter(
    "hub_grdf_rate_limit_waits", "GRDF requests that waited for the shared request budget."
)
GRDF_RATE_WAIT_SECONDS = Counter(
    "hub_grdf_rate_limit_wait_seconds", "Time spent waiting for the GRDF request budget."
)
TIC_FRAMES = Counter(
    "hub_tic_frames",
    "TIC frames received, by port and result (valid, invalid, interrupted).",
    ["port", "result"],
)
TIC_BYTES = Counter(
    "hub_tic_bytes",
    "Bytes received on a TIC port: frames between STX and ETX/EOT, and noise.",
    ["port"],
)
TIC_LEASE_REFUSED = Counter(
    "hub_tic_lease_refused_batches",
    "Batches of a TIC port refused because the reader had lost the port's lease.",
    ["port"],
)
TIC_PORT_UP = Gauge(
    "hub_tic_port_up",
    "1 while a TIC port reads frames, 0 when down, silent or probing.",
    ["port"],
    multiprocess_mode="livemostrecent",
)
TIC_CLOCK_DRIFT = Gauge(
    "hub_tic_clock_drift_seconds",
    "Meter clock minus reception time, by TIC meter id.",
    ["meter"],
    multiprocess_mode="livemostrecent",
)
TIC_POWER_SHARE = Gauge(
    "hub_tic_power_share_percent",
    "Power over Td as a share of the subscribed power.",
    ["meter"],
    multiprocess_mode="livemostrecent",
)
CELERY_TASKS = Counter(
    "hub_celery_tasks", "Celery tasks ended, by task name and outcome.", ["task", "outcome"]
)
CONTROL_COMMANDS = Counter(
    "hub_control_commands", "Control commands, by status (acked, failed, dry_run).", ["status"]
)
CONTROL_ACK_SECONDS = Histogram(
    "hub_control_ack_seconds",
    "Time from sending a control command to its acknowledgement.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
)
MQTT_MESSAGES = Counter(
    "hub_mqtt_messages", "MQTT messages, by outcome (published, dropped, failed).", ["outcome"]
)
MQTT_STATUS_WRITES = Counter(
    "hub_mqtt_status_writes",
    "Writes of a process's MQTT publisher state to the shared cache, by outcome (written, failed).",
    ["outcome"],
)


def observe_poll(*, source: str, outcome: str, seconds: float) -> None:
    POLL_RUNS.labels(source, outcome).inc()
    POLL_DURATION.labels(source).observe(max(seconds, 0.0))


def observe_polls(*, source: str, outcomes: Iterable[str], seconds: float) -> None:
    """:func:`observe_poll` for each outcome of a batch of runs that took ``seconds`` together,
    the series looked up once: a 10,000-contract poll records 10,000 runs."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    for outcome, count in counts.items():
        POLL_RUNS.labels(source, outcome).inc(count)
    duration = POLL_DURATION.labels(source)
    for _ in range(sum(counts.values())):
        duration.observe(max(seconds, 0.0))


def observe_command(*, status: str, latency_ms: float | None) -> None:
    CONTROL_COMMANDS.labels(status).inc()
    if latency_ms is not None and status == "acked":
        CONTROL_ACK_SECONDS.observe(latency_ms / 1000)


# -- requests --


def route_of(request: Any) -> str:
    """The resolved URL's name (``namespace:name``, else its route pattern); never the path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unresolved>"
    return match.view_name or match.route or "<unnamed>"


METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class RequestMetricsMiddleware:
    """Counts every answer by route and status and times it (first in the chain: all of it)."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        method = request.method if request.method in METHODS else "other"
        HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
        HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)
        return response


# -- collection --

# Collected at scrape time (not stored by the processes): the length of the Celery queues.
_scrape_collectors: list[Callable[[], Iterable[Metric]]] = []


def register_scrape_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """Add a function whose metrics are computed when /metrics is read."""
    _scrape_collectors.append(collect)


class _AtScrape:
    def collect(self) -> Iterator[Metric]:
        for collect in _scrape_collectors:
            try:
                yield from collect()
            except Exception:  # one failing source must not take the others down
                logger.warning("metrics: collector %s failed", collect, exc_info=True)


class _Files:
    """Every process's samples under the metrics root (all hosts and services), merged."""

    def __init__(self, root: str) -> None:
        self.root = root

    def collect(self) -> Iterable[Metric]:
        return MultiProcessCollector.merge(metrics_dir.sample_files(self.root), accumulate=True)


def exposition(*, root: str | None) -> tuple[bytes, str]:
    """The text format of every metric: the processes' files under ``root`` when the hub runs
    in multiprocess mode, else this process's registry; plus what is collected at scrape."""
    registry = CollectorRegistry(auto_describe=False)
    if root:
        registry.register(_Files(root))
    elif os.environ.get(metrics_dir.ENV):
        MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(_AtScrape())
    return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4


def celery_queue_lengths() -> Iterator[Metric]:
    """``LLEN`` of each Celery queue on a Redis broker (priority sub-queues included)."""
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return
    import redis

    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    family = GaugeMetricFamily(
        "hub_celery_queue_length",
        "Messages waiting in a Celery queue (Redis broker).",
        labels=["queue"],
    )
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        # kombu keeps priorities 1-9 in keys "<queue>\x06\x16<n>" beside the queue's own key.
        names = {
            queue: [f"{prefix}{queue}"] + [f"{prefix}{queue}\x06\x16{n}" for n in range(1, 10)]
            for queue in settings.METRICS_CELERY_QUEUES
        }
        with client.pipeline(transaction=False) as pipe:
            for keys in names.values():
                for key in keys:
                    pipe.llen(key)
            lengths = iter(pipe.execute())
        for queue, keys in names.items():
            family.add_metric([queue], sum(next(lengths) for _ in keys))
    finally:
        client.close()
    yield family


register_scrape_collector(celery_queue_lengths)
