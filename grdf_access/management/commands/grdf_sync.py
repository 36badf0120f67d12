"""Run a full GRDF sync now: rights' states, then every data type the consents allow."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import QuerySet
from django.utils import timezone

from grdf_access.adict_gateway import GatewayError, gateway_for
from grdf_access.models import Pce
from grdf_access.sync import full_sync
from hub.clock import local_day_of
from hub.models import Organisation


def add_target_arguments(parser: CommandParser) -> None:
    """``--org`` and ``--pce``, shared by the commands that call GRDF for stored PCEs."""
    parser.add_argument("--org", help="organisation slug (default: every organisation)")
    parser.add_argument("--pce", action="append", default=[], help="only this PCE (repeat)")


def target_organisations(slug: str | None) -> QuerySet[Organisation]:
    """The organisation named by ``--org``, else every organisation holding PCEs."""
    if slug:
        named = Organisation.objects.filter(slug=slug)
        if not named.exists():
            raise CommandError(f"unknown organisation: {slug}")
        return named
    return Organisation.objects.filter(pk__in=Pce.objects.values("organisation_id")).order_by(
        "slug"
    )


class Command(BaseCommand):
    help = "Synchronise GRDF access rights, then consumption, contractual and technical data."

    def add_arguments(self, parser: CommandParser) -> None:
        add_target_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        for organisation in target_organisations(options["org"]):
            try:
                with gateway_for(organisation) as gateway:
                    report = full_sync(
                        organisation=organisation,
                        gateway=gateway,
                        now=now,
                        today=local_day_of(now),
                        pces=options["pce"],
                        force=True,
                    )
            except GatewayError as exc:
                raise CommandError(f"{organisation.slug}: {exc.reason}") from exc
            data = report.data
            self.stdout.write(
                f"{organisation.slug}: {report.rights_seen} rights seen, "
                f"{report.rights_changed} changed; {data.pces} PCEs, {data.tasks} calls, "
                f"{data.failed} failed, {data.deferred} deferred, {data.points} points, "
                f"{data.snapshots_changed} snapshots changed, {len(data.warnings)} warnings"
            )
            for warning in data.warnings:
                self.stdout.write(f"  warning: {warning}")
            for error in data.errors:
                self.stdout.write(f"  error: {error}")
