"""``manage.py smartoa_poll [--contract ID]``: poll Smart OA now, in this process."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from smartoa import polling
from smartoa.client import SmartOAClient
from smartoa.models import Contract


class Command(BaseCommand):
    help = "Poll the Smart OA schedule of every enabled contract, or of one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contract", help="contract id (BOA…); all enabled ones if omitted")
        parser.add_argument("--organisation", help="organisation slug, when ids repeat")

    def handle(self, *args: Any, **options: Any) -> None:
        contracts = Contract.objects.select_related("organisation").order_by("pk")
        if options["organisation"]:
            contracts = contracts.filter(organisation__slug=options["organisation"])
        if options["contract"]:
            contracts = contracts.filter(contract_id=options["contract"])
            if not contracts.exists():
                raise CommandError(f"no contract {options['contract']!r}")
        else:
            contracts = contracts.filter(enabled=True)
        loaded = list(contracts)
        with SmartOAClient() as client:
            # The same path as the poll tasks: parallel calls, batched writes, notices, webhooks.
            results = polling.poll_contracts(
                contracts=loaded,
                now=timezone.now(),
                client=client,
                threads=settings.SMARTOA_POLL_THREADS,
                batch_size=settings.SMARTOA_POLL_BATCH,
            )
        failed = 0
        for contract, result in zip(loaded, results, strict=True):
            line = f"{contract.organisation.slug} {result.contract_id}: {result.outcome}"
            if result.version is not None:
                line += f" ({result.version.application_date} @ {result.version.update_date})"
            if result.error:
                failed += 1
                line += f" — {result.error}"
            self.stdout.write(line)
        if failed:
            raise CommandError(f"{failed} poll(s) failed")
