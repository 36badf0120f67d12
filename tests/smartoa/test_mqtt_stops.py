"""Smart OA stops of today and tomorrow (Paris days) as Home Assistant events (hub.mqtt)."""

from __future__ import annotations

from typing import Any

import pytest

from hub import tasks as hub_tasks
from smartoa import simulator
from smartoa.client import SmartOAClient
from smartoa.models import Contract
from smartoa.polling import poll_contract

from .conftest import paris

NOW = paris(2025, 9, 22, 8, 0)


def test_a_new_version_tells_its_stops_of_today(
    contract: Contract,
    oa_client: SmartOAClient,
    sim: simulator.SimulatorState,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(hub_tasks.deliver_webhook, "apply_async", lambda **o: None)
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr("hub.mqtt.publish_event", lambda **kwargs: sent.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        first = poll_contract(contract=contract, now=NOW, client=oa_client)
        assert first.outcome == "new_version"
        again = poll_contract(contract=contract, now=paris(2025, 9, 22, 8, 5), client=oa_client)
        assert again.outcome == "unchanged"
    # The simulator's stop of the day: 11:55 to 18:00 Paris time; told once.
    assert [(e["event_type"], e["attributes"]["contract"]) for e in sent] == [
        ("stop_today", contract.contract_id)
    ]
    event = sent[0]
    assert event["organisation_id"] == contract.organisation_id
    assert event["attributes"]["start"] == paris(2025, 9, 22, 11, 55)
    assert event["attributes"]["end"] == paris(2025, 9, 22, 18, 0)
