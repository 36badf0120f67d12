"""``manage.py smartoa_seed_demo``: the demo organisation's OA contract, on the simulator."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hub.models import MeteringPoint, MeteringPointKind, Organisation
from smartoa import simulator
from smartoa.models import Contract
from smartoa.services import create_contract

DEMO_ORG_SLUG = "demo"


class Command(BaseCommand):
    help = "Add a Smart OA contract to the demo organisation, with the simulator's token."

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=DEMO_ORG_SLUG).first()
        if organisation is None:
            raise CommandError("no demo organisation: run `manage.py seed_demo` first")
        point = MeteringPoint.objects.filter(
            organisation=organisation, kind=MeteringPointKind.OA_SITE
        ).first()
        if point is None:
            raise CommandError("the demo organisation has no OA site metering point")
        if Contract.objects.filter(
            organisation=organisation, contract_id=point.identifier
        ).exists():
            self.stdout.write(f"{point.identifier}: already there")
            return
        create_contract(
            organisation=organisation,
            contract_id=point.identifier,
            account_id=point.identifier,
            api_token=simulator.token_for(point.identifier),
            label=point.label,
            site=point.site,
            metering_point=point,
        )
        self.stdout.write(f"{point.identifier}: created, polled by the simulator's token")
