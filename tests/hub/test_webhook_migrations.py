"""The three apps' delivery rows survive the move onto the hub's abstract delivery model."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from hub.models import DeliveryStatus
from hub.services import webhooks

AT = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)
BEFORE = [
    ("grdf_access", "0004_alert_webhooks"),
    ("smartoa", "0006_contract_claimed_at"),
    ("tic", "0005_port_measures_point"),
]
AFTER = [
    ("grdf_access", "0005_shared_webhook_delivery"),
    ("smartoa", "0007_shared_webhook_delivery"),
    ("tic", "0007_shared_webhook_delivery"),
]
KEPT = (
    "payload", "status", "attempts", "last_status_code", "last_error", "created_at",
    "last_attempt_at", "delivered_at",
)  # fmt: skip


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _rows(**endpoint_and_subject: Any) -> list[dict[str, Any]]:
    common = {"payload": {"event": "x.y", "n": 1}, "last_error": "", "created_at": AT}
    return [
        {**common, **endpoint_and_subject, "status": "delivered", "attempts": 1,
         "last_status_code": 204, "last_attempt_at": AT, "delivered_at": AT},
        {**common, **endpoint_and_subject, "status": "pending", "attempts": 2,
         "last_status_code": 503, "last_error": "Service Unavailable", "last_attempt_at": AT},
        {**common, **endpoint_and_subject, "status": "failed", "attempts": 10,
         "last_status_code": 500, "last_error": "Internal Server Error", "last_attempt_at": AT},
    ]  # fmt: skip


def _seed(apps: Any) -> dict[str, list[dict[str, Any]]]:
    org = apps.get_model("hub", "Organisation").objects.create(slug="mig", name="Mig")
    # GRDF: alerts
    hook = apps.get_model("grdf_access", "AlertWebhook").objects.create(
        organisation=org, url="https://a.example/h", secret="k"
    )
    notifications = [
        apps.get_model("hub", "Notification").objects.create(
            organisation=org,
            source="grdf",
            kind="k",
            title=f"t{n}",
            created_at=AT,
            last_seen_at=AT,
        )
        for n in range(3)
    ]
    grdf = _rows(webhook_id=hook.pk)
    for row, notification in zip(grdf, notifications, strict=True):
        row["notification_id"] = notification.pk
    # Smart OA: schedule versions
    contract = apps.get_model("smartoa", "Contract").objects.create(
        organisation=org, contract_id="BOA-MIG", account_id="a"
    )
    endpoint = apps.get_model("smartoa", "WebhookEndpoint").objects.create(
        organisation=org, url="https://b.example/h", secret="k"
    )
    versions = [
        apps.get_model("smartoa", "ScheduleVersion").objects.create(
            contract=contract,
            application_date=dt.date(2026, 3, 29 - n),
            update_date=AT,
            fetched_at=AT,
            raw_body="{}",
            periods=[],
        )
        for n in range(3)
    ]
    smartoa = _rows(endpoint_id=endpoint.pk)
    for row, version in zip(smartoa, versions, strict=True):
        row["version_id"] = version.pk
    # TIC: meter events
    port = apps.get_model("tic", "TicPort").objects.create(
        organisation=org, name="p", url="/dev/ttyUSB0", family="pmepmi"
    )
    point = apps.get_model("hub", "MeteringPoint").objects.create(
        organisation=org, kind="tic_meter", identifier="041436028024"
    )
    meter = apps.get_model("tic", "TicMeter").objects.create(
        organisation=org,
        port=port,
        metering_point=point,
        identifier="041436028024",
        family="pmepmi",
    )
    tic_hook = apps.get_model("tic", "TicWebhook").objects.create(
        organisation=org, url="https://c.example/h", secret="k"
    )
    events = [
        apps.get_model("tic", "TicEvent").objects.create(
            organisation=org, meter=meter, kind="preavis_start", at=AT + dt.timedelta(minutes=n)
        )
        for n in range(3)
    ]
    tic = _rows(webhook_id=tic_hook.pk)
    for row, event in zip(tic, events, strict=True):
        row["event_id"] = event.pk
    stored = {}
    for label, rows in (
        ("grdf_access.AlertDelivery", grdf),
        ("smartoa.WebhookDelivery", smartoa),
        ("tic.TicWebhookDelivery", tic),
    ):
        model = apps.get_model(label)
        made = [model.objects.create(**row) for row in rows]
        # auto_now_add ignored the given creation time before the change: set it afterwards.
        model.objects.filter(pk__in=[m.pk for m in made]).update(created_at=AT)
        stored[label] = [{**row, "pk": m.pk} for row, m in zip(rows, made, strict=True)]
    return stored


@pytest.fixture
def latest_schema_after() -> Any:
    """The test moves the schema back and forth; later tests need every migration applied,
    including those written after AFTER."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_delivery_rows_are_kept_and_pending_ones_are_swept_after_the_change(latest_schema_after):
    old = _migrate(BEFORE)
    try:
        stored = _seed(old)
    finally:
        new = _migrate(AFTER)
    for label, rows in stored.items():
        model = new.get_model(label)
        for row in rows:
            kept = model.objects.get(pk=row["pk"])
            assert {f: getattr(kept, f) for f in KEPT} == {f: row.get(f) for f in KEPT}, label
            assert kept.next_attempt_at is None
    # The pending rows carry on under the shared policy: overdue, so the sweep sends them.
    for channel in webhooks.channels():
        pending = [
            r["pk"]
            for r in stored[channel.model._meta.label]
            if r["status"] == DeliveryStatus.PENDING
        ]
        assert webhooks.overdue(channel=channel, now=AT + dt.timedelta(hours=1)) == pending
