"""Delete GRDF data whose consent ended more than GRDF_RETENTION_DAYS ago."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from grdf_access.purge import purge
from hub.clock import local_day_of


class Command(BaseCommand):
    help = "Remove GRDF consumption and snapshots whose consent ended beyond the retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="retention in days (default: the setting)")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        report = purge(today=local_day_of(now), now=now, days=options["days"])
        self.stdout.write(
            f"{report.pces} PCEs purged: {report.points} points, {report.snapshots} snapshots"
        )
