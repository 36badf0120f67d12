"""The demo organisation's Smart OA contract, on the simulator (idempotent).

Connected to ``hub.signals.demo_seeded`` in ``SmartoaConfig.ready``, so ``manage.py seed_demo``
(and so ``make run``) gives the demo organisation a contract the poller can fetch at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.models import MeteringPoint, MeteringPointKind, Organisation
from smartoa import simulator
from smartoa.models import Contract
from smartoa.services import create_contract


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
    seed_demo_contract(organisation=organisation)
