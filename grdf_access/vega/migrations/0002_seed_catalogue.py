"""The catalogue seeded from GRDF's GTG of 2 December 2025 (``data/PROVENANCE.md``)."""

import datetime as dt
from typing import Any

from django.db import migrations

NAMES = ["Release", "ReleaseDateChange", "CatalogueItem", "ReleaseCell", "ItemVersion"]


def seed(apps: Any, schema_editor: Any) -> None:
    from grdf_access.vega.catalogue_data import load

    models = {name: apps.get_model("grdf_vega", name) for name in NAMES}
    if models["Release"].objects.exists():
        return
    load(models=models, now=dt.datetime(2025, 12, 2, 12, 0, tzinfo=dt.UTC))


def unseed(apps: Any, schema_editor: Any) -> None:
    for name in reversed(NAMES):
        apps.get_model("grdf_vega", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("grdf_vega", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
