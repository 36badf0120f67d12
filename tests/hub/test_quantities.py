"""hub.quantities: one registry of the names series hold; no app spells a quantity itself."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps as django_apps

from hub import quantities
from hub.models import MeteringPoint, Series, SeriesKind

ROOT = Path(__file__).resolve().parents[2]
APPS = ("grdf_access", "smartoa", "flexready", "tic")
# The names series held before hub owned them.
OLD_NAMES = frozenset(importlib.import_module("hub.migrations.0007_quantity_names").RENAMED) | {
    "power-td",
    "active_power",
}
OLD_PREFIXES = ("index-", "td-", "tariff-")
NEW_PREFIXES = (quantities.INDEX_PREFIX, quantities.TARIFF_PERIOD_PREFIX)
# Literals that coincide with a quantity name but name something else.
NOT_QUANTITIES = {
    ("tic/ingest.py", "subscribed_power"),  # TicMeter's column, in the state columns written
    ("tic/webhooks.py", "subscribed_power"),  # key of the meter-state webhook payload
    ("tic/alerts.py", "clock_drift"),  # kind of the notification
}


def _quantity_literals() -> list[str]:
    names = {q.name for q in quantities.FIXED} | OLD_NAMES
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            where = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                    continue
                text = node.value
                spelled = text in names or text.startswith(OLD_PREFIXES + NEW_PREFIXES)
                if spelled and (where, text) not in NOT_QUANTITIES:
                    found.append(f"{where}:{node.lineno}: {text!r}")
    return found


def test_no_app_spells_a_quantity_name() -> None:
    """Apps write and read series through hub.quantities, never a string of their own."""
    assert _quantity_literals() == []


def test_the_scan_sees_a_spelled_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan above does find a literal name (so its empty answer means something)."""
    app = tmp_path / "tic"
    app.mkdir()
    (app / "x.py").write_text('A = "power-td"\nB = f"td-{A}"\nC = "gas_energy_daily"\n')
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    monkeypatch.setattr(f"{__name__}.APPS", ("tic",))
    assert len(_quantity_literals()) == 3


def test_registry_names_are_unique_snake_case_with_units_kinds_labels() -> None:
    names = [q.name for q in quantities.FIXED]
    assert len(names) == len(set(names))
    for q in quantities.FIXED:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", q.name), q.name
        assert q.kind.value in SeriesKind.values
        assert q.label and q.label[0].isupper(), q.name
    assert quantities.GAS_ENERGY_DAILY.step == 86_400
    assert quantities.GAS_ENERGY_HOURLY.step == 3_600
    assert quantities.ACTIVE_ENERGY_EXPORT.unit == "Wh"
    assert quantities.ACTIVE_ENERGY_EXPORT.kind == SeriesKind.INTERVAL


def test_indexes_and_tariff_periods_are_built_by_the_registry() -> None:
    index = quantities.index_for("EASF01")
    assert (index.name, index.unit, index.kind, index.label) == (
        "energy_index_easf01",
        "Wh",
        quantities.Kind.INDEX,
        "Index EASF01",
    )
    assert quantities.index_for("EAP_s").name == "energy_index_eap_s"
    assert quantities.is_index(index.name)
    assert quantities.get(index.name) is not None
    period = quantities.tariff_period_for("distributeur")
    assert period.name == "tariff_period_distributeur"
    assert quantities.get(period.name) == period
    assert quantities.get("nothing") is None
    assert quantities.label_of("gas_energy_daily") == "Énergie gaz journalière"


def test_power_follows_the_meter_unit() -> None:
    """02E §2.9.3 (I): with PS in kVA the overrun is on apparent power."""
    assert quantities.power_for("W") is quantities.ACTIVE_POWER_IMPORT
    assert quantities.power_for("kW") is quantities.ACTIVE_POWER_IMPORT
    assert quantities.power_for("VA") is quantities.APPARENT_POWER_IMPORT
    assert quantities.power_for("kVA") is quantities.APPARENT_POWER_IMPORT


@pytest.mark.django_db
def test_the_migration_renames_stored_series_and_back(tenant) -> None:  # type: ignore[no-untyped-def]
    migration = importlib.import_module("hub.migrations.0007_quantity_names")
    other = MeteringPoint.objects.create(
        organisation=tenant.organisation, identifier="30001234567890", kind=tenant.point.kind
    )
    old = [
        (tenant.point, "power-td", "kVA", "tic"),
        (other, "power-td", "W", "tic"),
        (tenant.point, "td-ea-s", "Wh", "tic"),
        (other, "td-eas", "Wh", "tic"),
        (tenant.point, "index-eap-s", "Wh", "tic"),
        (tenant.point, "index-easf01", "Wh", "tic"),
        (tenant.point, "tariff-distributeur", "", "tic"),
        (tenant.point, "gas-energy-daily", "kWh", "grdf"),
        (tenant.point, "supplier_price", "EUR/kWh", "flexready-supplier"),
        (tenant.point, "active_energy_export", "kWh", "smartoa-csv"),
    ]
    for point, name, unit, source in old:
        Series.objects.create(metering_point=point, quantity=name, unit=unit, source=source)

    migration.forward(django_apps, None)
    renamed = set(Series.objects.values_list("metering_point_id", "quantity"))
    p, o = tenant.point.pk, other.pk
    assert renamed == {
        (p, quantities.APPARENT_POWER_IMPORT.name),
        (o, quantities.ACTIVE_POWER_IMPORT.name),
        (p, quantities.TD_ACTIVE_ENERGY_IMPORT.name),
        (o, quantities.TD_ACTIVE_ENERGY_IMPORT.name),
        (p, quantities.index_for("EAP_s").name),
        (p, quantities.index_for("EASF01").name),
        (p, quantities.tariff_period_for("distributeur").name),
        (p, quantities.GAS_ENERGY_DAILY.name),
        (p, quantities.ENERGY_PRICE.name),
        (p, quantities.ACTIVE_ENERGY_EXPORT.name),
    }
    assert all(quantities.get(name) is not None for _point, name in renamed)

    migration.backward(django_apps, None)
    restored = set(Series.objects.values_list("metering_point_id", "quantity"))
    # SAPHIR's td-eas comes back under the PME-PMI name, the one the earlier code read first.
    assert restored == {(pt.pk, name) for pt, name, _u, _s in old} - {(o, "td-eas")} | {
        (o, "td-ea-s")
    }
