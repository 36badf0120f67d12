"""Stored series take the quantity names of hub.quantities (one snake_case name per quantity)."""

from django.db import migrations

# Names as they stood when this migration was written (frozen: not read from hub.quantities).
RENAMED = {
    "subscribed-power": "subscribed_power",
    "ps-share": "subscribed_power_share",
    "clock-drift": "clock_drift",
    "td-ea-s": "td_active_energy_import",
    "td-eas": "td_active_energy_import",  # SAPHIR's name for the PME-PMI EA_s
    "td-ea-i": "td_active_energy_export",
    "td-eai": "td_active_energy_export",
    "td-eapp-s": "td_apparent_energy_import",
    "gas-energy-daily": "gas_energy_daily",
    "gas-volume-daily": "gas_volume_daily",
    "gas-index-daily": "gas_index_daily",
    "gas-energy-published": "gas_energy_published",
    "gas-volume-published": "gas_volume_published",
    "gas-index-published": "gas_index_published",
    "gas-energy-hourly": "gas_energy_hourly",
    "supplier_price": "energy_price",
    "supplier_co2": "co2_intensity",
    "supplier_power": "signal_power",
}
# Backwards, a merged name takes the one the earlier code read first.
RESTORED = {new: old for old, new in RENAMED.items() if old not in ("td-eas", "td-eai")}
OLD_POWER = "power-td"
ACTIVE_POWER, APPARENT_POWER = "active_power_import", "apparent_power_import"
TIC_SOURCE = "tic"
PREFIXES = (("index-", "energy_index_"), ("tariff-", "tariff_period_"))


def forward(apps, schema_editor):
    Series = apps.get_model("hub", "Series")
    for old, new in RENAMED.items():
        Series.objects.filter(quantity=old).update(quantity=new)
    # The mean power over Td is active (W, kW) or apparent (VA, kVA) as the meter's PS is.
    powers = Series.objects.filter(quantity=OLD_POWER)
    powers.filter(unit__endswith="VA").update(quantity=APPARENT_POWER)
    powers.update(quantity=ACTIVE_POWER)
    for old, new in PREFIXES:
        for series in Series.objects.filter(quantity__startswith=old):
            series.quantity = new + series.quantity[len(old) :].replace("-", "_")
            series.save(update_fields=["quantity"])


def backward(apps, schema_editor):
    Series = apps.get_model("hub", "Series")
    for new, old in RESTORED.items():
        Series.objects.filter(quantity=new).update(quantity=old)
    Series.objects.filter(source=TIC_SOURCE, quantity__in=[ACTIVE_POWER, APPARENT_POWER]).update(
        quantity=OLD_POWER
    )
    for old, new in PREFIXES:
        for series in Series.objects.filter(quantity__startswith=new):
            series.quantity = old + series.quantity[len(new) :].replace("_", "-")
            series.save(update_fields=["quantity"])


class Migration(migrations.Migration):
    dependencies = [("hub", "0006_jobs")]

    operations = [migrations.RunPython(forward, backward)]
