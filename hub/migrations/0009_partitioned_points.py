"""On PostgreSQL, hub_point becomes a partitioned table (tier, then time) holding the same rows.

SQLite keeps the plain table. The rows are moved in one statement; the points of the sources
whose raw data expire go to the short-lived tier and are rolled up on the way.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import migrations

COLUMNS = "series_id, ts, value, quality, provisional"

CREATE_PARENT = """
CREATE TABLE hub_point (
    series_id bigint NOT NULL,
    ts timestamptz NOT NULL,
    value double precision NULL,
    quality smallint NOT NULL CONSTRAINT hub_point_quality_check CHECK (quality >= 0),
    provisional boolean NOT NULL,
    tier smallint NOT NULL DEFAULT 0,
    CONSTRAINT point_value_or_missing CHECK (value IS NOT NULL OR quality = 3)
) PARTITION BY LIST (tier)
"""
# The key (series, ts) is each tier's: a key of the parent would have to hold the tier too
# (8 more bytes in every index entry). A series never changes tier, so it is the same rule.
CREATE_TIERS = [
    "CREATE TABLE hub_point_kept PARTITION OF hub_point (tier DEFAULT 0, "
    "CONSTRAINT hub_point_kept_pkey PRIMARY KEY (series_id, ts)) "
    "FOR VALUES IN (0) PARTITION BY RANGE (ts)",
    "CREATE TABLE hub_point_short PARTITION OF hub_point (tier DEFAULT 1, "
    "CONSTRAINT hub_point_short_pkey PRIMARY KEY (series_id, ts)) "
    "FOR VALUES IN (1) PARTITION BY RANGE (ts)",
]


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from hub.services import partitions
    from hub.services.series import refresh_rollups

    short = sorted(settings.SERIES_RAW_RETENTION_DAYS)
    tier_of = "CASE WHEN s.source = ANY(%s) THEN 1 ELSE 0 END"
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE hub_point RENAME TO hub_point_plain")
        cursor.execute("ALTER INDEX hub_point_pkey RENAME TO hub_point_plain_pkey")
        cursor.execute(CREATE_PARENT)
        for statement in CREATE_TIERS:
            cursor.execute(statement)
        cursor.execute(
            f"SELECT {tier_of} AS tier, min(p.ts), max(p.ts) FROM hub_point_plain p "
            "LEFT JOIN hub_series s ON s.id = p.series_id GROUP BY 1",
            [short],
        )
        for tier, first, last in cursor.fetchall():
            partitions.ensure_partitions(tier=partitions.TIERS[tier], first=first, last=last)
        cursor.execute(
            f"INSERT INTO hub_point ({COLUMNS}, tier) "
            f"SELECT p.series_id, p.ts, p.value, p.quality, p.provisional, {tier_of} "
            "FROM hub_point_plain p LEFT JOIN hub_series s ON s.id = p.series_id",
            [short],
        )
        cursor.execute("DROP TABLE hub_point_plain")
        cursor.execute(
            "SELECT array_agg(DISTINCT series_id), min(ts), max(ts) FROM hub_point_short"
        )
        series_ids, first, last = cursor.fetchone()
    if series_ids:
        refresh_rollups(series_ids=series_ids, first=first, last=last)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE hub_point RENAME TO hub_point_partitioned")
        cursor.execute(
            "CREATE TABLE hub_point (ts timestamptz NOT NULL, value double precision NULL, "
            "quality smallint NOT NULL CHECK (quality >= 0), provisional boolean NOT NULL, "
            "series_id bigint NOT NULL, PRIMARY KEY (series_id, ts), "
            "CONSTRAINT point_value_or_missing CHECK (value IS NOT NULL OR quality = 3))"
        )
        cursor.execute(
            f"INSERT INTO hub_point ({COLUMNS}) SELECT {COLUMNS} FROM hub_point_partitioned"
        )
        cursor.execute("DROP TABLE hub_point_partitioned CASCADE")
        cursor.execute("DELETE FROM hub_rollup")


class Migration(migrations.Migration):
    dependencies = [("hub", "0008_rollups")]

    operations = [migrations.RunPython(forwards, backwards)]
