"""``manage.py smartoa_billing --contract ID --day YYYY-MM-DD [--csv FILE]``."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hub.clock import PARIS
from smartoa.billing import BillingDay, bill_contract_day
from smartoa.models import Contract


class Command(BaseCommand):
    help = "The 5-minute billing curve of a contract's local day, and its compliance figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contract", required=True, help="contract id (BOA…)")
        parser.add_argument("--day", required=True, help="local day, YYYY-MM-DD")
        parser.add_argument("--organisation", help="organisation slug, when ids repeat")
        parser.add_argument("--csv", help="write the steps to this file ('-' for stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = dt.date.fromisoformat(options["day"])
        except ValueError:
            raise CommandError("--day: expected YYYY-MM-DD") from None
        contracts = Contract.objects.filter(contract_id=options["contract"])
        if options["organisation"]:
            contracts = contracts.filter(organisation__slug=options["organisation"])
        found = list(contracts[:2])
        if not found:
            raise CommandError(f"no contract {options['contract']!r}")
        if len(found) > 1:
            raise CommandError("several organisations hold this contract id: add --organisation")
        result = bill_contract_day(contract=found[0], day=day)
        if options["csv"]:
            self._write_csv(result, options["csv"])
        unit = result.unit or "?"
        self.stdout.write(
            f"{found[0].contract_id} {day}: {len(result.steps)} steps, "
            f"stop {result.stop_duration}, {result.stop_steps} stop steps, "
            f"{result.neutralised_steps} neutralised, {result.missing_steps} missing; "
            f"non-compliant energy {result.non_compliant_energy:g} {unit}, "
            f"neutralised energy {result.neutralised_energy:g} {unit}"
        )
        for check in result.returns:
            self.stdout.write(
                f"  back at full power after the stop ending {check.stop_end.isoformat()}: "
                f"{check.status.value} ({check.reason})"
            )

    def _write_csv(self, result: BillingDay, path: str) -> None:
        to_stdout = path == "-"
        handle: Any = self.stdout if to_stdout else open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        try:
            writer = csv.writer(handle)
            writer.writerow(["start_local", "start_utc", "state", "energy"])
            for step in result.steps:
                writer.writerow(
                    [
                        step.start.astimezone(PARIS).isoformat(),
                        step.start.isoformat(),
                        step.state.value,
                        "" if step.energy is None else step.energy,
                    ]
                )
        finally:
            if not to_stdout:
                handle.close()
