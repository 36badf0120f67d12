"""Configuring TIC ports from scripts (``manage.py tic_port``), each change with its audit event."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import transaction

from hub.actors import Actor
from hub.models import MeteringPoint, Organisation
from hub.services import audit
from tic.models import MEASURED_KINDS, Baud, Family, TicPort

# What pyserial's serial_for_url opens besides a device path (tic.reader.open_serial).
URL_SCHEMES = ("socket", "rfc2217", "loop", "spy", "alt", "hwgrep")
_NETWORK_URL = re.compile(r"^(socket|rfc2217)://[^\s/:]+:\d{1,5}(/.*)?$")
_MAX_URL = TicPort._meta.get_field("url").max_length or 300
_MAX_NAME = TicPort._meta.get_field("name").max_length or 100


class PortError(ValueError):
    """Bad input for a port: ``field`` names the argument, ``reason`` says what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise PortError("url", "empty")
    if len(url) > _MAX_URL or any(c.isspace() for c in url):
        raise PortError("url", f"at most {_MAX_URL} characters, no spaces")
    if url.startswith("/"):
        return url
    scheme, sep, _rest = url.partition("://")
    if not sep or scheme not in URL_SCHEMES:
        raise PortError(
            "url", f"a device path (/dev/ttyUSB0) or a {'/'.join(URL_SCHEMES)}:// URL, not {url!r}"
        )
    if scheme in ("socket", "rfc2217") and not _NETWORK_URL.match(url):
        raise PortError("url", f"{scheme}:// needs host:port, got {url!r}")
    return url


def check_family(family: str) -> str:
    if family not in Family.values:
        raise PortError("family", f"one of {', '.join(Family.values)}, not {family!r}")
    return family


def check_baud(baud: str) -> str:
    if baud not in Baud.values:
        raise PortError("baud", f"one of {', '.join(Baud.values)}, not {baud!r}")
    return baud


def find_point(*, organisation: Organisation, reference: str) -> MeteringPoint:
    """The organisation's point named by its identifier (PRM, OA site, ADS) or its id."""
    points = MeteringPoint.objects.filter(organisation=organisation)
    found = points.filter(identifier=reference).first()
    if found is None and reference.isdigit():
        found = points.filter(pk=int(reference)).first()
    if found is None:
        raise PortError(
            "metering-point", f"no metering point {reference!r} in organisation {organisation.slug}"
        )
    if found.kind not in MEASURED_KINDS:
        raise PortError(
            "metering-point",
            f"{found} is a {found.get_kind_display()}: a TIC meter cannot measure it",
        )
    return found


def add_port(
    *,
    organisation: Organisation,
    url: str,
    family: str,
    baud: str = Baud.AUTO,
    metering_point: MeteringPoint | None = None,
    name: str = "",
    actor: Actor,
    now: dt.datetime,
) -> TicPort:
    """Create an enabled port; ``tic_read`` picks it up. Raises PortError naming the field."""
    url, family, baud = check_url(url), check_family(family), check_baud(baud)
    name = (name or url).strip()
    if not name or len(name) > _MAX_NAME:
        raise PortError("name", f"1 to {_MAX_NAME} characters")
    if metering_point is not None and metering_point.organisation_id != organisation.pk:
        raise PortError("metering-point", "belongs to another organisation")
    port = TicPort(
        organisation=organisation,
        name=name,
        url=url,
        family=family,
        baud=baud,
        metering_point=metering_point,
    )
    try:
        port.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        if (
            field == "__all__"
            and TicPort.objects.filter(organisation=organisation, name=name).exists()
        ):
            field = "name"
        raise PortError(field.replace("_", "-"), "; ".join(messages)) from exc
    with transaction.atomic():
        port.save()
        audit.record(
            action="tic.port_added",
            actor=actor,
            organisation=organisation,
            target=port,
            after={
                "name": port.name,
                "url": port.url,
                "family": port.family,
                "baud": port.baud,
                "metering_point": port.metering_point_id,
            },
            at=now,
        )
    return port


def disable_port(*, port: TicPort, actor: Actor, now: dt.datetime) -> bool:
    """Stop reading a port (kept, with its meters and series). False if it already was."""
    with transaction.atomic():
        locked = TicPort.objects.select_for_update().get(pk=port.pk)
        if not locked.enabled:
            return False
        locked.enabled = False
        locked.save(update_fields=["enabled"])
        audit.record(
            action="tic.port_disabled",
            actor=actor,
            organisation=locked.organisation,
            target=locked,
            before={"enabled": True},
            after={"enabled": False},
            at=now,
        )
    port.enabled = False
    return True
