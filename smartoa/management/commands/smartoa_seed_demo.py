"""``manage.py smartoa_seed_demo``: the demo organisation's OA contract, on the simulator.

``seed_demo`` does the same through ``hub.signals.demo_seeded``; this command is for an
organisation seeded before that existed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hub.models import Organisation
from smartoa.demo import seed_demo_contract

DEMO_ORG_SLUG = "demo"


class Command(BaseCommand):
    help = "Add a Smart OA contract to the demo organisation, with the simulator's token."

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=DEMO_ORG_SLUG).first()
        if organisation is None:
            raise CommandError("no demo organisation: run `manage.py seed_demo` first")
        contract, created = seed_demo_contract(organisation=organisation)
        if contract is None:
            raise CommandError("the demo organisation has no OA site metering point")
        if created:
            self.stdout.write(f"{contract.contract_id}: created, polled by the simulator's token")
        else:
            self.stdout.write(f"{contract.contract_id}: already there")
