"""Demo seeding, the management commands and the Celery tasks' wiring."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from flexready.market import demo, tasks
from flexready.market.client.ecowatt import EcowattClient
from flexready.market.client.supplier import SupplierClient
from flexready.market.management.commands import ecowatt_poll, supplier_signal_poll
from flexready.market.models import EcowattDay, FeedStatus, SupplierFeed
from flexready.market.services.supplier import PRICE
from flexready.market.simulator import ecowatt as ecowatt_sim
from hub.clock import local_day_bounds
from hub.models import MeteringPoint, Point, Series
from hub.signals import demo_seeded
from tests.conftest import Tenant

from .conftest import wsgi_transport

pytestmark = pytest.mark.django_db


def test_the_demo_receiver_is_connected() -> None:
    keys = [entry[0][0] for entry in demo_seeded.receivers]
    assert "flexready_market_demo" in keys


def test_demo_seed_gives_the_demo_prm_four_days_of_signal_and_ecowatt(tenant: Tenant) -> None:
    # The other apps' receivers are theirs to test: this one is called on its own.
    today = dt.date(2026, 3, 28)
    MeteringPoint.objects.create(
        organisation=tenant.organisation, kind="elec_prm", identifier=demo.DEMO_PRM
    )
    demo.on_demo_seeded(None, organisation=tenant.organisation, today=today)
    feed = SupplierFeed.objects.get(metering_point__identifier=demo.DEMO_PRM)
    series = Series.objects.get(metering_point=feed.metering_point, quantity=PRICE)
    start, _ = local_day_bounds(today)
    _, end = local_day_bounds(today + dt.timedelta(days=3))
    # 4 days with the 23-hour 29 March: 4 * 96 - 4 quarter-hours.
    assert Point.objects.filter(series=series, ts__gte=start, ts__lt=end).count() == 380
    assert EcowattDay.objects.filter(day__gte=today).count() == 4
    assert EcowattDay.objects.get(day=dt.date(2026, 3, 29)).hours.count() == 23
    demo.seed(organisation=tenant.organisation, today=today)  # idempotent
    assert SupplierFeed.objects.count() == 1
    assert Point.objects.filter(series=series).count() == 380


def test_demo_seed_without_the_prm_does_nothing(tenant: Tenant) -> None:
    demo.seed(organisation=tenant.organisation, today=dt.date(2026, 3, 28))
    assert not SupplierFeed.objects.exists()


def _patch_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        ecowatt_poll, "EcowattClient", lambda: EcowattClient(transport=wsgi_transport())
    )
    monkeypatch.setattr(
        supplier_signal_poll, "SupplierClient", lambda: SupplierClient(transport=wsgi_transport())
    )
    monkeypatch.setattr(tasks, "EcowattClient", lambda: EcowattClient(transport=wsgi_transport()))
    monkeypatch.setattr(tasks, "SupplierClient", lambda: SupplierClient(transport=wsgi_transport()))


def test_ecowatt_poll_command_calls_once_then_serves_the_stored_days(
    monkeypatch: pytest.MonkeyPatch, in_process_wsgi: None
) -> None:
    ecowatt_sim.STATE.reset()
    _patch_clients(monkeypatch)
    out = io.StringIO()
    call_command("ecowatt_poll", stdout=out)
    assert "ecowatt: success" in out.getvalue()
    assert out.getvalue().count("dvalue=") == 4
    again = io.StringIO()
    call_command("ecowatt_poll", stdout=again)
    assert "ecowatt: skipped" in again.getvalue()
    assert again.getvalue().count("dvalue=") == 4
    assert ecowatt_sim.STATE.calls == 1
    ecowatt_sim.STATE.reset()


def test_supplier_signal_poll_command(
    monkeypatch: pytest.MonkeyPatch, in_process_wsgi: None, feed: SupplierFeed
) -> None:
    _patch_clients(monkeypatch)
    out = io.StringIO()
    call_command("supplier_signal_poll", stdout=out)
    assert f"{feed.metering_point.identifier}: valid" in out.getvalue()
    with pytest.raises(CommandError, match="no enabled delivery point"):
        call_command("supplier_signal_poll", "--organisation", "nobody")


def test_tasks_poll_through_the_services(
    monkeypatch: pytest.MonkeyPatch,
    in_process_wsgi: None,
    feed: SupplierFeed,
    tenant: Tenant,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _patch_clients(monkeypatch)
    queued: list[dict[str, int]] = []
    monkeypatch.setattr(
        tasks.poll_supplier_feed, "apply_async", lambda kwargs: queued.append(kwargs)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.poll_supplier_feeds() == 1
    assert queued == [{"feed_pk": feed.pk}]
    assert tasks.poll_supplier_feed(feed_pk=feed.pk) == FeedStatus.VALID
    SupplierFeed.objects.filter(pk=feed.pk).update(enabled=False)
    assert tasks.poll_supplier_feed(feed_pk=feed.pk) == "skipped"
    ecowatt_sim.STATE.reset()
    assert tasks.poll_ecowatt() == "success"
    ecowatt_sim.STATE.reset()


def test_missing_configuration_is_clear(settings: Any) -> None:
    settings.ECOWATT_CLIENT_SECRET = ""
    settings.FLEXREADY_SUPPLIER_URL = ""
    assert tasks.poll_ecowatt() == "not_configured"
    with pytest.raises(ImproperlyConfigured, match="ECOWATT_CLIENT_ID"):
        EcowattClient()
    with pytest.raises(ImproperlyConfigured, match="FLEXREADY_SUPPLIER_URL"):
        SupplierClient()
