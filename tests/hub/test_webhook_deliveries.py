"""The shared delivery policy: one retry schedule, a claim per attempt, a sweep of the forgotten."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from grdf_access.models import AlertDelivery, AlertWebhook
from hub import tasks as hub_tasks
from hub.models import DeliveryStatus, Notification
from hub.services import webhooks

pytestmark = pytest.mark.django_db
AT = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)
CHANNEL = "grdf_access.alert"


def public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


def answering(status: int) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status))


@pytest.fixture
def delivery(tenant) -> AlertDelivery:  # type: ignore[no-untyped-def]
    hook = AlertWebhook.objects.create(
        organisation=tenant.organisation, url="https://alertes.example/hook", secret="k"
    )
    notification = Notification.objects.create(
        organisation=tenant.organisation, source="grdf", kind="right_refused", title="t",
        created_at=AT, last_seen_at=AT,
    )  # fmt: skip
    return AlertDelivery.objects.create(
        webhook=hook, notification=notification, payload={"event": "grdf.alert.x"}, created_at=AT
    )


def test_every_app_registers_its_channel():
    names = {c.name for c in webhooks.channels()}
    assert {"grdf_access.alert", "smartoa.schedule", "tic.event"} <= names
    assert webhooks.channel_for(AlertDelivery).signature_header == "X-Hub-Signature"


def test_retry_delay_doubles_from_ten_seconds_up_to_an_hour():
    assert [webhooks.retry_delay(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert webhooks.retry_delay(10) == webhooks.retry_delay(30) == webhooks.MAX_DELAY == 3600


def test_a_failed_attempt_schedules_the_next_then_gives_up(delivery):
    for n in range(1, webhooks.MAX_ATTEMPTS):
        now = AT + dt.timedelta(hours=n)
        assert not webhooks.attempt(
            delivery=delivery, now=now, transport=answering(503), resolver=public
        )
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.next_attempt_at == now + dt.timedelta(seconds=webhooks.retry_delay(n))
    assert not webhooks.attempt(
        delivery=delivery, now=AT, transport=answering(503), resolver=public
    )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert delivery.attempts == webhooks.MAX_ATTEMPTS and delivery.last_status_code == 503


def test_deliver_claims_a_due_delivery_once(delivery, monkeypatch):
    calls: list[int] = []

    def unanswered(*, delivery, now, **_):  # type: ignore[no-untyped-def]
        calls.append(delivery.pk)
        # A second worker comes while this POST is under way: the row is claimed, not due.
        assert webhooks.deliver(channel=CHANNEL, delivery_pk=delivery.pk, now=now).status == (
            "skipped"
        )
        return False

    monkeypatch.setattr(webhooks, "attempt", unanswered)
    assert webhooks.deliver(channel=CHANNEL, delivery_pk=delivery.pk, now=AT).status == "retry"
    assert calls == [delivery.pk]


def test_deliver_skips_a_delivery_not_yet_due_or_no_longer_pending(delivery):
    delivery.next_attempt_at = AT + dt.timedelta(minutes=5)
    delivery.save()
    assert webhooks.deliver(channel=CHANNEL, delivery_pk=delivery.pk, now=AT).status == "skipped"
    delivery.status = DeliveryStatus.DELIVERED
    delivery.next_attempt_at = None
    delivery.save()
    later = AT + dt.timedelta(hours=1)
    assert webhooks.deliver(channel=CHANNEL, delivery_pk=delivery.pk, now=later).status == "skipped"


def test_the_task_asks_celery_to_retry_after_the_policy_delay(delivery, monkeypatch):
    monkeypatch.setattr(webhooks, "attempt", lambda **kw: _fail_once(kw["delivery"], kw["now"]))
    countdowns: list[int] = []

    class Retry(Exception):
        pass

    def retry(**options: int) -> Retry:
        countdowns.append(options["countdown"])
        return Retry()

    monkeypatch.setattr(hub_tasks.deliver_webhook, "retry", retry)
    with pytest.raises(Retry):
        hub_tasks.deliver_webhook(channel=CHANNEL, delivery_pk=delivery.pk)
    assert countdowns == [webhooks.FIRST_DELAY]


def _fail_once(delivery: AlertDelivery, now: dt.datetime) -> bool:
    delivery.attempts += 1
    delivery.save()
    return False


def test_sweep_requeues_only_what_is_overdue(delivery, monkeypatch):
    queued: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(
        webhooks,
        "queue_now",
        lambda *, channel, delivery_pks: queued.append((channel, list(delivery_pks))) or 0,
    )
    grace = dt.timedelta(seconds=webhooks.SWEEP_GRACE_SECONDS)
    webhooks.sweep(now=AT + grace - dt.timedelta(seconds=1))
    assert (CHANNEL, []) in queued and (CHANNEL, [delivery.pk]) not in queued
    queued.clear()
    webhooks.sweep(now=AT + grace)
    assert (CHANNEL, [delivery.pk]) in queued
    # Retried once: due again at its next_attempt_at, swept only past the grace after it.
    delivery.attempts, delivery.next_attempt_at = 1, AT + dt.timedelta(hours=1)
    delivery.save()
    queued.clear()
    webhooks.sweep(now=AT + dt.timedelta(hours=1))
    assert (CHANNEL, [delivery.pk]) not in queued


def test_queue_now_survives_a_broker_outage(delivery, monkeypatch):
    def down(**options: object) -> None:
        raise ConnectionError("broker away")

    monkeypatch.setattr(hub_tasks.deliver_webhook, "apply_async", down)
    assert webhooks.queue_now(channel=CHANNEL, delivery_pks=[delivery.pk]) == 0
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0
