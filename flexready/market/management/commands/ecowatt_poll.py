"""``manage.py ecowatt_poll``: call RTE Ecowatt now if 15 minutes have passed, print the days."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from flexready.market import selectors
from flexready.market.client.ecowatt import EcowattClient
from flexready.market.services import ecowatt


class Command(BaseCommand):
    help = (
        "Poll RTE Ecowatt (at most once per 15 minutes across the hub) and print the stored days."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        with EcowattClient() as client:
            result = ecowatt.poll(now=now, client=client)
        when = result.next_call_at.isoformat() if result.next_call_at else "-"
        self.stdout.write(f"ecowatt: {result.outcome} (next call from {when})")
        if result.error:
            self.stdout.write(f"  {result.error}")
        for signal in selectors.ecowatt_payload(now=now)["signals"]:
            levels = "".join(str(v["hvalue"]) for v in signal["values"])
            self.stdout.write(f"{signal['jour'][:10]} dvalue={signal['dvalue']} {levels}")
        if result.outcome in ("failed", "invalid"):
            raise CommandError(f"Ecowatt poll {result.outcome}")
