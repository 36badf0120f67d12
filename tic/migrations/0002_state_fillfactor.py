"""Room on each page for the frequent rewrites of meter and port state (PostgreSQL only).

``tic_read`` rewrites every meter's state row every few seconds. With free space on the page
PostgreSQL updates in place (HOT: none of the rewritten columns is indexed), which spares the
four index updates per row that a full page forces.
"""

from django.db import migrations


def _fillfactor(value: int):  # type: ignore[no-untyped-def]
    def apply(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in ("tic_ticmeter", "tic_ticport"):
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {value})")

    return apply


class Migration(migrations.Migration):
    dependencies = [("tic", "0001_initial")]

    operations = [migrations.RunPython(_fillfactor(50), _fillfactor(100))]
