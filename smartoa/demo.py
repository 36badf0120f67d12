"""The demo organisation's Smart OA contract, on the simulator (idempotent).

Connected to ``hub.signals.demo_seeded`` in ``SmartoaConfig.ready``, so ``manage.py seed_demo``
(and so ``make run``) gives the demo organisation a contract the poller can fetch at once.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hub.models import MeteringPoint, MeteringPointKind, Organisation
from smartoa import simulator
from smartoa.client import parse_schedule
from smartoa.models import Contract
from smartoa.services import create_contract, record_schedule


def seed_demo_contract(*, organisation: Organisation) -> tuple[Contract | None, bool]:
    """The organisation's contract for its first OA site metering point: (contract, created).

    ``(None, False)`` when the organisation has no OA site metering point.
    """
    point = (
        MeteringPoint.objects.filter(organisation=organisation, kind=MeteringPointKind.OA_SITE)
        .order_by("pk")
        .first()
    )
    if point is None:
        return None, False
    existing = Contract.objects.filter(
        organisation=organisation, contract_id=point.identifier
    ).first()
    if existing is not None:
        return existing, False
    contract = create_contract(
        organisation=organisation,
        contract_id=point.identifier,
        account_id=point.identifier,
        api_token=simulator.token_for(point.identifier),
        label=point.label,
        site=point.site,
        metering_point=point,
    )
    return contract, True


def on_demo_seeded(
    sender: Any, *, organisation: Organisation, today: dt.date | None = None, **kwargs: Any
) -> None:
    contract, _created = seed_demo_contract(organisation=organisation)
    if contract is not None and today is not None:
        seed_demo_schedule(contract=contract, today=today)


def seed_demo_schedule(*, contract: Contract, today: dt.date) -> None:
    """Today's schedule as the simulator publishes it the day before, so the portal and the
    site view show the day's stops before the first poll (idempotent: one version per update)."""
    update, stops = simulator.versions_of(today)[0]
    body = simulator.body_for(
        contract_id=contract.contract_id, day=today, update_date=update, stops=stops
    )
    schedule = parse_schedule(json.dumps(body), expected_id=contract.contract_id)
    record_schedule(contract=contract, schedule=schedule, fetched_at=update)
