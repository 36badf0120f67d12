"""Fetch again the whole range each consent allows (or from a date): the consented history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from grdf_access.adict_gateway import GatewayError, gateway_for
from grdf_access.management.commands.grdf_sync import (
    add_target_arguments,
    target_organisations,
)
from grdf_access.sync import sync_data
from hub.clock import local_day_of


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--since: a date YYYY-MM-DD, not {text!r}") from None


class Command(BaseCommand):
    help = (
        "Fetch GRDF consumption data again over the whole range the consents allow (5 years "
        "of published data, 3 of informative at most), or from --since."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_target_arguments(parser)
        parser.add_argument("--since", type=_date, help="first gas day to fetch (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        for organisation in target_organisations(options["org"]):
            try:
                with gateway_for(organisation) as gateway:
                    report = sync_data(
                        organisation=organisation,
                        gateway=gateway,
                        now=now,
                        today=local_day_of(now),
                        pces=options["pce"],
                        types={"publiees", "informatives_journalieres", "informatives_horaires"},
                        backfill=True,
                        backfill_since=options["since"],
                    )
            except GatewayError as exc:
                raise CommandError(f"{organisation.slug}: {exc.reason}") from exc
            self.stdout.write(
                f"{organisation.slug}: {report.pces} PCEs, {report.tasks} calls, "
                f"{report.failed} failed, {report.deferred} deferred, {report.points} points"
            )
            for error in report.errors:
                self.stdout.write(f"  error: {error}")
