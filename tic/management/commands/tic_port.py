"""Script TIC ports: ``tic_port add``, ``tic_port list``, ``tic_port disable ID``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from hub.actors import Actor
from hub.models import Organisation
from tic import services
from tic.models import Baud, Family, TicPort

ACTOR = Actor.system("manage.py tic_port")


def organisation_of(slug: str | None) -> Organisation:
    """The organisation ``--org`` names; without it, the only one there is."""
    if slug:
        found = Organisation.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"--org: unknown organisation {slug!r}")
        return found
    only = list(Organisation.objects.order_by("pk")[:2])
    if len(only) != 1:
        raise CommandError("--org: required (give the organisation's slug)")
    return only[0]


class Command(BaseCommand):
    help = "Add, list or disable TIC ports (the serial inputs tic_read reads)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="add an enabled port")
        add.add_argument("--url", required=True, help="/dev/ttyUSB0, socket://host:port, …")
        add.add_argument("--family", required=True, help=f"one of {', '.join(Family.values)}")
        add.add_argument("--baud", default=Baud.AUTO, help=f"one of {', '.join(Baud.values)}")
        add.add_argument(
            "--metering-point",
            help="what the meter measures: the point's identifier (PRM, OA site) or id",
        )
        add.add_argument("--org", help="organisation slug (default: the only one)")
        add.add_argument("--name", default="", help="port name (default: the URL)")
        listing = actions.add_parser("list", help="list ports")
        listing.add_argument("--org", help="only this organisation's ports")
        disable = actions.add_parser("disable", help="stop reading a port (kept with its data)")
        disable.add_argument("id", help="the port's id (see list)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add":
            self._add(options)
        elif action == "list":
            self._list(options)
        else:
            self._disable(options)

    def _add(self, options: dict[str, Any]) -> None:
        organisation = organisation_of(options["org"])
        try:
            point = None
            if options["metering_point"]:
                point = services.find_point(
                    organisation=organisation, reference=options["metering_point"]
                )
            port = services.add_port(
                organisation=organisation,
                url=options["url"],
                family=options["family"],
                baud=options["baud"],
                metering_point=point,
                name=options["name"],
                actor=ACTOR,
                now=timezone.now(),
            )
        except services.PortError as exc:
            raise CommandError(f"--{exc.field}: {exc.reason}") from exc
        self.stdout.write(f"added port {port.pk} ({port.name}) for {organisation.slug}")

    def _list(self, options: dict[str, Any]) -> None:
        ports = TicPort.objects.select_related("organisation", "metering_point").order_by("pk")
        if options["org"]:
            ports = ports.filter(organisation=organisation_of(options["org"]))
        self.stdout.write("id\torg\tname\turl\tfamily\tbaud\tmetering point\tenabled\tstate")
        for p in ports:
            point = p.metering_point.identifier if p.metering_point else "-"
            self.stdout.write(
                f"{p.pk}\t{p.organisation.slug}\t{p.name}\t{p.url}\t{p.family}\t{p.baud}\t"
                f"{point}\t{'yes' if p.enabled else 'no'}\t{p.state}"
            )

    def _disable(self, options: dict[str, Any]) -> None:
        raw = options["id"]
        port = TicPort.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if port is None:
            raise CommandError(f"ID: no TIC port {raw!r}")
        if services.disable_port(port=port, actor=ACTOR, now=timezone.now()):
            self.stdout.write(f"disabled port {port.pk} ({port.name})")
        else:
            self.stdout.write(f"port {port.pk} ({port.name}) was already disabled")
