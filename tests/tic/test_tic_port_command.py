"""``manage.py tic_port``: deployers script the ports a TIC reader reads, and what each measures.

"A TIC meter is attached to the PRM (or OA site) it measures; configure it in the admin and with
``manage.py tic_port add --url URL --family F [--baud auto] [--metering-point ID]``,
``tic_port list``, ``tic_port disable ID``" (tic/README.md, Ports).
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from hub import quantities
from hub.models import AuditEvent, MeteringPoint, Series
from tests.conftest import Tenant
from tic.ingest import Ingestor
from tic.models import TicMeter, TicPort
from tic.simulator import SimulatedPmePmi

from .conftest import feed

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 10, 25, 0, 30, 3, tzinfo=dt.UTC)  # the October DST day, Paris


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("tic_port", *args, stdout=out)
    return out.getvalue()


def test_add_attaches_the_port_to_the_prm_it_measures(tenant: Tenant) -> None:
    out = _run(
        "add", "--url", "/dev/ttyUSB0", "--family", "pmepmi", "--baud", "9600",
        "--metering-point", tenant.point.identifier, "--name", "TGBT",
    )  # fmt: skip
    port = TicPort.objects.get()
    assert f"added port {port.pk} (TGBT) for acme" in out
    assert (port.organisation, port.metering_point, port.url) == (
        tenant.organisation,
        tenant.point,
        "/dev/ttyUSB0",
    )
    assert (port.family, port.baud, port.enabled) == ("pmepmi", "9600", True)
    event = AuditEvent.objects.get(action="tic.port_added")
    assert event.organisation == tenant.organisation
    assert event.actor_label == "manage.py tic_port"
    assert event.after["metering_point"] == tenant.point.pk


def test_add_defaults_and_the_point_by_its_id(tenant: Tenant) -> None:
    _run("add", "--url", "socket://10.0.0.5:4001", "--family", "auto",
         "--metering-point", str(tenant.point.pk))  # fmt: skip
    port = TicPort.objects.get()
    assert (port.name, port.baud, port.metering_point) == (
        "socket://10.0.0.5:4001",
        "auto",
        tenant.point,
    )


def test_a_port_on_a_prm_writes_the_meter_series_on_that_prm(tenant: Tenant) -> None:
    """The meter's frames land on the PRM (no point of its own), under hub's names."""
    _run("add", "--url", "loop://", "--family", "pmepmi",
         "--metering-point", tenant.point.identifier)  # fmt: skip
    port = TicPort.objects.get()
    ingestor = Ingestor()
    meter = SimulatedPmePmi(ads="041436028024")
    for second in range(0, 120, 10):
        at = T0 + dt.timedelta(seconds=second)
        feed(ingestor, port, meter.frame(at=at, power_va=21_000), at)
    ingestor.flush(now=T0 + dt.timedelta(minutes=2))
    assert TicMeter.objects.get().metering_point == tenant.point
    assert not MeteringPoint.objects.filter(kind="tic_meter").exists()
    names = set(
        Series.objects.filter(metering_point=tenant.point).values_list("quantity", flat=True)
    )
    assert {quantities.APPARENT_POWER_IMPORT.name, quantities.SUBSCRIBED_POWER.name} <= names


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--url", "/dev/ttyUSB0", "--family", "linky"], "--family"),
        (["--url", "/dev/ttyUSB0", "--family", "pmepmi", "--baud", "1234"], "--baud"),
        (["--url", "http://bridge:80", "--family", "pmepmi"], "--url"),
        (["--url", "socket://bridge", "--family", "pmepmi"], "--url"),
        (["--url", "  ", "--family", "pmepmi"], "--url"),
        (["--url", "loop://", "--family", "pmepmi", "--metering-point", "99999999"],
         "--metering-point"),
        (["--url", "loop://", "--family", "pmepmi", "--org", "nobody"], "--org"),
        (["--url", "loop://", "--family", "pmepmi", "--name", "x" * 101], "--name"),
    ],
)  # fmt: skip
def test_bad_input_names_the_argument(tenant: Tenant, args: list[str], named: str) -> None:
    with pytest.raises(CommandError, match=f"^{named}: "):
        _run("add", *args)
    assert not TicPort.objects.exists()
    assert not AuditEvent.objects.filter(action="tic.port_added").exists()


def test_a_foreign_or_gas_point_is_refused(tenant: Tenant, foreign: Tenant) -> None:
    with pytest.raises(CommandError, match=r"^--metering-point: no metering point"):
        _run("add", "--url", "loop://", "--family", "pmepmi", "--org", "acme",
             "--metering-point", foreign.point.identifier)  # fmt: skip
    gas = MeteringPoint.objects.create(
        organisation=tenant.organisation, kind="gas_pce", identifier="GI123456"
    )
    with pytest.raises(CommandError, match=r"^--metering-point: .*cannot measure it"):
        _run("add", "--url", "loop://", "--family", "pmepmi", "--org", "acme",
             "--metering-point", gas.identifier)  # fmt: skip
    assert not TicPort.objects.exists()


def test_org_is_required_with_several_organisations_and_names_are_unique(
    tenant: Tenant, foreign: Tenant
) -> None:
    with pytest.raises(CommandError, match=r"^--org: required"):
        _run("add", "--url", "loop://", "--family", "pmepmi")
    _run("add", "--url", "loop://", "--family", "pmepmi", "--org", "rival", "--name", "TGBT")
    _run("add", "--url", "loop://", "--family", "pmepmi", "--org", "acme", "--name", "TGBT")
    with pytest.raises(CommandError, match=r"^--name: "):
        _run("add", "--url", "/dev/ttyUSB1", "--family", "pmepmi", "--org", "acme",
             "--name", "TGBT")  # fmt: skip
    assert TicPort.objects.count() == 2


def test_list_shows_ports_and_filters_by_organisation(tenant: Tenant, foreign: Tenant) -> None:
    _run("add", "--url", "loop://", "--family", "saphir", "--org", "acme", "--name", "Poste HTA",
         "--metering-point", tenant.point.identifier)  # fmt: skip
    _run("add", "--url", "/dev/ttyUSB0", "--family", "pmepmi", "--org", "rival", "--name", "TD")
    lines = _run("list").splitlines()
    assert lines[0].startswith("id\torg\tname")
    assert len(lines) == 3
    assert f"acme\tPoste HTA\tloop://\tsaphir\tauto\t{tenant.point.identifier}\tyes" in lines[1]
    only = _run("list", "--org", "rival").splitlines()
    assert len(only) == 2 and "\trival\tTD\t" in only[1]


def test_disable_stops_a_port_once_with_its_audit_event(tenant: Tenant) -> None:
    _run("add", "--url", "loop://", "--family", "pmepmi")
    port = TicPort.objects.get()
    assert "disabled port" in _run("disable", str(port.pk))
    port.refresh_from_db()
    assert port.enabled is False
    assert "already disabled" in _run("disable", str(port.pk))
    event = AuditEvent.objects.get(action="tic.port_disabled")
    assert (event.before, event.after) == ({"enabled": True}, {"enabled": False})
    for bad in ("99999", "abc"):
        with pytest.raises(CommandError, match=r"^ID: no TIC port"):
            _run("disable", bad)
