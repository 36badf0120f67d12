from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.models.metering import MeteringPoint


class SeriesKind(models.TextChoices):
    # The kind decides how a series resamples when no aggregate is asked for.
    INDEX = "index", _("index cumulatif")  # meter register: last value of a bucket
    INTERVAL = "interval", _("quantité par période")  # energy per step: summed
    INSTANT = "instant", _("valeur instantanée")  # power, price, level: averaged


class Aggregate(models.TextChoices):
    SUM = "sum", _("somme")
    MEAN = "mean", _("moyenne")
    MIN = "min", _("minimum")
    MAX = "max", _("maximum")
    LAST = "last", _("dernière valeur")
    COUNT = "count", _("nombre de points")


DEFAULT_AGGREGATE = {
    SeriesKind.INDEX: Aggregate.LAST,
    SeriesKind.INTERVAL: Aggregate.SUM,
    SeriesKind.INSTANT: Aggregate.MEAN,
}


class Series(models.Model):
    """One measured quantity of one metering point, from one source."""

    metering_point = models.ForeignKey(
        MeteringPoint, on_delete=models.CASCADE, related_name="series"
    )
    quantity = models.SlugField(_("grandeur"), max_length=64)
    unit = models.CharField(_("unité"), max_length=16)
    kind = models.CharField(max_length=16, choices=SeriesKind.choices, default=SeriesKind.INSTANT)
    # None for irregular series (events, TIC frames arriving when they do).
    step_seconds = models.PositiveIntegerField(_("pas (s)"), null=True, blank=True)
    source = models.SlugField(_("source"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("série")
        ordering = ("metering_point_id", "quantity", "source")
        constraints = [
            models.UniqueConstraint(
                fields=["metering_point", "quantity", "source"], name="series_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=SeriesKind.values), name="series_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metering_point} · {self.quantity} ({self.unit}, {self.source})"

    @property
    def default_aggregate(self) -> Aggregate:
        return DEFAULT_AGGREGATE[SeriesKind(self.kind)]


class Quality(models.IntegerChoices):
    MEASURED = 0, _("mesurée")
    ESTIMATED = 1, _("estimée")
    CORRECTED = 2, _("corrigée")
    MISSING = 3, _("manquante")


class Point(models.Model):
    """One value of a series at one instant (UTC), keyed by (series, ts).

    The composite primary key is the only index: bulk upserts maintain one B-tree, not two.
    A provisional point (an informative reading, say) is replaced by the definitive one; a
    provisional write never replaces a definitive point.
    """

    pk = models.CompositePrimaryKey("series_id", "ts")
    # No database foreign key: its per-row check trigger more than doubled the cost of bulk
    # ingest (measured in bench/series_ingest.py). Writers go through hub.services.series,
    # which checks the series ids of every batch; deletes cascade through the ORM.
    # No index of its own either: the primary key's leading column serves lookups by series.
    series = models.ForeignKey(
        Series,
        on_delete=models.CASCADE,
        related_name="points",
        db_constraint=False,
        db_index=False,
    )
    ts = models.DateTimeField()
    value = models.FloatField(null=True)
    quality = models.PositiveSmallIntegerField(choices=Quality.choices, default=Quality.MEASURED)
    provisional = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("point")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value__isnull=False) | models.Q(quality=Quality.MISSING),
                name="point_value_or_missing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.series_id}@{self.ts.isoformat()}={self.value}"


class Rollup(models.Model):
    """Points of one series summarised over a fixed bucket of ``width`` seconds (60, 900, 3600).

    Kept for the sources whose raw points expire (``SERIES_RAW_RETENTION_DAYS``), maintained by
    ``hub.services.series`` as points arrive. ``sum``/``count`` give the mean and the energy of
    an interval; ``last_value`` is the value at ``last_ts``, the bucket's latest instant.
    """

    pk = models.CompositePrimaryKey("series_id", "width", "bucket")
    series = models.ForeignKey(
        Series,
        on_delete=models.CASCADE,
        related_name="rollups",
        db_constraint=False,
        db_index=False,
    )
    width = models.PositiveIntegerField()
    bucket = models.DateTimeField()
    count = models.PositiveIntegerField()  # points with a value
    sum = models.FloatField(null=True)
    min = models.FloatField(null=True)
    max = models.FloatField(null=True)
    last_ts = models.DateTimeField()
    last_value = models.FloatField(null=True)
    quality = models.PositiveSmallIntegerField()  # the worst among the bucket's points

    class Meta:
        verbose_name = _("agrégat de points")

    def __str__(self) -> str:
        return f"{self.series_id}@{self.bucket.isoformat()}/{self.width}s"
