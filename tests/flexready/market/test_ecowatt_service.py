"""Ecowatt polling: one call per 15 minutes, 429 and Retry-After, storage, alerts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
from django.core import mail

from flexready.market.client.ecowatt import EcowattClient, EcowattRateLimited, parse_signals
from flexready.market.models import EcowattDay, EcowattHour, EcowattState
from flexready.market.services import ecowatt
from flexready.market.simulator import ecowatt as ecowatt_sim
from hub.models import Notification, PollRun
from tests.conftest import Tenant

from .conftest import paris, wsgi_transport
from .test_ecowatt_client import body, day

pytestmark = pytest.mark.django_db

NOW = paris(2026, 1, 15, 10, 0)


def flat(level: int = 1) -> ecowatt_sim.Script:
    return lambda day, hour: level


def test_poll_stores_four_days_from_the_unordered_answer(
    ecowatt_client: EcowattClient, ecowatt_state: ecowatt_sim.SimulatorState
) -> None:
    result = ecowatt.poll(now=NOW, client=ecowatt_client)
    assert result.outcome == "success" and result.days == 4
    assert list(EcowattDay.objects.values_list("day", flat=True)) == [
        dt.date(2026, 1, d) for d in (15, 16, 17, 18)
    ]
    # The script makes a day whose ordinal is a multiple of 3 orange at 8-10h and 18-20h.
    assert any(d.toordinal() % 3 == 0 for d in EcowattDay.objects.values_list("day", flat=True))
    for stored in EcowattDay.objects.all():
        hours = {h.pas: h.level for h in stored.hours.all()}
        assert len(hours) == 24 and hours[3] == 0
        if stored.day.toordinal() % 3 == 0:
            assert stored.level == 2 and hours[8] == hours[19] == 2 and hours[10] == 1
    state = EcowattState.objects.get()
    assert state.last_success_at == NOW and state.next_call_at == NOW + dt.timedelta(minutes=15)
    assert json.loads(state.last_body)["signals"]
    assert PollRun.objects.get(source="ecowatt").items_stored == 96


def test_at_most_one_call_per_15_minutes(
    ecowatt_client: EcowattClient, ecowatt_state: ecowatt_sim.SimulatorState
) -> None:
    assert ecowatt.poll(now=NOW, client=ecowatt_client).outcome == "success"
    skipped = ecowatt.poll(now=NOW + dt.timedelta(minutes=14, seconds=59), client=ecowatt_client)
    assert skipped.outcome == "skipped"
    assert ecowatt_state.calls == 1
    assert EcowattDay.objects.count() == 4  # the stored answer is still served
    ecowatt_state.clock = lambda: NOW + dt.timedelta(minutes=15)
    later = ecowatt.poll(now=NOW + dt.timedelta(minutes=15), client=ecowatt_client)
    assert later.outcome == "success" and ecowatt_state.calls == 2
    assert ecowatt_state.token_calls == 1  # the token is cached between calls


def test_429_with_retry_after_pushes_the_next_call(
    ecowatt_client: EcowattClient, ecowatt_state: ecowatt_sim.SimulatorState
) -> None:
    # Someone else (another install with the same key) called 5 minutes ago.
    ecowatt.poll(now=NOW, client=ecowatt_client)
    EcowattState.objects.update(next_call_at=None)
    ecowatt_state.clock = lambda: NOW + dt.timedelta(minutes=5)
    result = ecowatt.poll(now=NOW + dt.timedelta(minutes=5), client=ecowatt_client)
    assert result.outcome == "rate_limited"
    # The simulator said Retry-After: 600 (10 minutes left); our own pace says 15 minutes.
    assert result.next_call_at == NOW + dt.timedelta(minutes=20)
    assert ecowatt_state.calls == 2
    assert EcowattDay.objects.count() == 4  # the last answer stays
    run = PollRun.objects.filter(source="ecowatt").order_by("-started_at").first()
    assert run is not None and run.outcome == "failed" and "rate limited" in run.error


def test_a_long_retry_after_wins_over_the_pace() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "3600"})])
    transport = httpx.MockTransport(
        lambda r: (
            httpx.Response(200, json={"access_token": "t", "expires_in": 7199})
            if r.url.path.endswith("/token")
            else next(answers)
        )
    )
    with EcowattClient(
        base_url="https://rte.example",
        token_url="https://rte.example/token",
        client_id="a",
        client_secret="b",
        transport=transport,
    ) as client:
        result = ecowatt.poll(now=NOW, client=client)
        assert result.next_call_at == NOW + dt.timedelta(hours=1)
        assert ecowatt.poll(now=NOW + dt.timedelta(minutes=30), client=client).outcome == "skipped"


def test_an_invalid_answer_keeps_the_stored_days() -> None:
    ecowatt.store_forecast(
        forecast=parse_signals(body(day("2026-01-15T00:00:00+01:00", [1] * 24))), fetched_at=NOW
    )
    transport = httpx.MockTransport(
        lambda r: (
            httpx.Response(200, json={"access_token": "t", "expires_in": 7199})
            if r.url.path.endswith("/token")
            else httpx.Response(200, json={"signals": [{"jour": "nope"}]})
        )
    )
    with EcowattClient(
        base_url="https://rte.example",
        token_url="https://rte.example/token",
        client_id="a",
        client_secret="b",
        transport=transport,
    ) as client:
        result = ecowatt.poll(now=NOW, client=client)
    assert result.outcome == "invalid" and "signals[0].jour" in result.error
    assert EcowattHour.objects.count() == 24
    assert EcowattState.objects.get().last_outcome == "invalid"


def test_the_dst_days_are_stored_with_23_and_25_hours() -> None:
    forecast = parse_signals(
        body(
            day("2026-10-25T00:00:00+02:00", [1] * 25),
            day("2026-03-29T00:00:00+01:00", [1] * 23),
        )
    )
    ecowatt.store_forecast(forecast=forecast, fetched_at=NOW)
    counts = {d.day: d.hours.count() for d in EcowattDay.objects.all()}
    assert counts == {dt.date(2026, 3, 29): 23, dt.date(2026, 10, 25): 25}


def test_the_simulator_sends_23_values_on_the_march_change(
    ecowatt_client: EcowattClient, ecowatt_state: ecowatt_sim.SimulatorState
) -> None:
    ecowatt_state.clock = lambda: paris(2026, 3, 27, 12)
    ecowatt.poll(now=paris(2026, 3, 27, 12), client=ecowatt_client)
    assert EcowattDay.objects.get(day=dt.date(2026, 3, 29)).hours.count() == 23
    assert EcowattDay.objects.get(day=dt.date(2026, 3, 30)).hours.count() == 24


def test_orange_and_red_days_alert_every_organisation_once(
    tenant: Tenant, foreign: Tenant, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    forecast = parse_signals(
        body(
            day("2026-01-15T00:00:00+01:00", [1] * 24),
            day("2026-01-16T00:00:00+01:00", [1] * 8 + [2] * 2 + [1] * 14),
            day("2026-01-17T00:00:00+01:00", [1] * 18 + [3] * 2 + [1] * 4),
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        ecowatt.raise_alerts(forecast=forecast, now=NOW)
        ecowatt.raise_alerts(forecast=forecast, now=NOW + dt.timedelta(minutes=15))
    for organisation in (tenant.organisation, foreign.organisation):
        alerts = Notification.objects.filter(organisation=organisation, source="ecowatt")
        assert sorted(a.dedupe_key for a in alerts) == [
            "ecowatt:2026-01-16:orange",
            "ecowatt:2026-01-17:rouge",
        ]
        orange = alerts.get(dedupe_key="ecowatt:2026-01-16:orange")
        assert orange.severity == "warning" and orange.repeats == 1
        assert "08h, 09h" in orange.body
        red = alerts.get(dedupe_key="ecowatt:2026-01-17:rouge")
        assert red.severity == "critical" and "18h, 19h" in red.body
        assert red.link == "/flexready/signals/"
    # Critical alerts mail the admins of each organisation, once.
    assert sorted(m.to[0] for m in mail.outbox) == [tenant.admin.email, foreign.admin.email]


def test_a_day_turning_red_alerts_again_and_a_calm_day_closes_its_alert(tenant: Tenant) -> None:
    orange = parse_signals(body(day("2026-01-16T00:00:00+01:00", [1] * 8 + [2] + [1] * 15)))
    red = parse_signals(body(day("2026-01-16T00:00:00+01:00", [1] * 8 + [3] + [1] * 15)))
    calm = parse_signals(body(day("2026-01-16T00:00:00+01:00", [1] * 24)))
    ecowatt.raise_alerts(forecast=orange, now=NOW)
    ecowatt.raise_alerts(forecast=red, now=NOW + dt.timedelta(minutes=15))
    alerts = Notification.objects.filter(organisation=tenant.organisation, source="ecowatt")
    assert alerts.count() == 2
    assert alerts.get(dedupe_key__endswith="orange").resolved_at is not None
    ecowatt.raise_alerts(forecast=calm, now=NOW + dt.timedelta(minutes=30))
    assert not alerts.filter(resolved_at__isnull=True).exists()


def test_past_days_do_not_alert(tenant: Tenant) -> None:
    old = parse_signals(body(day("2026-01-14T00:00:00+01:00", [3] * 24)))
    assert ecowatt.raise_alerts(forecast=old, now=NOW) == 0


def test_the_sandbox_path_is_not_rate_limited(
    ecowatt_state: ecowatt_sim.SimulatorState, in_process_wsgi: None
) -> None:
    with EcowattClient(transport=wsgi_transport(), sandbox=True) as client:
        client.fetch(now=NOW)
        client.fetch(now=NOW)
    with EcowattClient(transport=wsgi_transport()) as client:
        client.fetch(now=NOW)
        with pytest.raises(EcowattRateLimited):
            client.fetch(now=NOW)
    assert ecowatt_state.calls == 4


def test_the_simulator_refuses_wrong_credentials(
    ecowatt_state: ecowatt_sim.SimulatorState, in_process_wsgi: None
) -> None:
    with (
        EcowattClient(transport=wsgi_transport(), client_secret="wrong") as client,
        pytest.raises(httpx.HTTPError, match="invalid_client"),
    ):
        client.fetch(now=NOW)
    assert ecowatt_state.token_calls == 1 and ecowatt_state.calls == 0


def test_alerts_of_days_gone_by_are_closed(tenant: Tenant) -> None:
    orange = parse_signals(body(day("2026-01-15T00:00:00+01:00", [1] * 8 + [2] + [1] * 15)))
    ecowatt.raise_alerts(forecast=orange, now=NOW)
    alert = Notification.objects.get(organisation=tenant.organisation, source="ecowatt")
    assert alert.resolved_at is None
    next_day = parse_signals(body(day("2026-01-16T00:00:00+01:00", [1] * 24)))
    ecowatt.raise_alerts(forecast=next_day, now=NOW + dt.timedelta(days=1))
    alert.refresh_from_db()
    assert alert.resolved_at == NOW + dt.timedelta(days=1)
