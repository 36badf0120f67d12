"""The change calendar: release dates with their history, what each organisation uses, what it
must change by when, and the alerts (90, 30, 7 days before a version ends; a release date moved).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from grdf_access.vega.models import (
    CatalogueItem,
    DatePrecision,
    DateStatus,
    ItemVersion,
    Release,
    ReleaseDateChange,
    Usage,
    UsageAlert,
)
from hub.actors import NOBODY, Actor
from hub.clock import local_day_of
from hub.models import Organisation, Severity
from hub.services import audit
from hub.services.notifications import notify

SOURCE = "grdf_vega"
REMINDER_DAYS = (90, 30, 7)
SEVERITY_BY_DAYS = {90: Severity.INFO, 30: Severity.WARNING, 7: Severity.CRITICAL}


class UnknownVersion(ValueError):
    """A version the catalogue does not list for the item (field ``version``)."""


class NotAFlux(ValueError):
    pass


# -- release dates ------------------------------------------------------------------------------


def set_release_date(
    *,
    release: Release,
    date: dt.date | None,
    status: str,
    precision: str = DatePrecision.DAY,
    note: str = "",
    announced_on: dt.date | None = None,
    actor: Actor = NOBODY,
    now: dt.datetime,
) -> ReleaseDateChange | None:
    """Record a new announced date (the previous one stays in the history) and tell every
    organisation using an item this release changes or ends. ``None`` when nothing changed."""
    if status not in DateStatus.values:
        raise ValueError(f"status must be one of {DateStatus.values}")
    if (release.planned_date, release.date_status, release.date_precision) == (
        date,
        status,
        precision,
    ):
        return None
    with transaction.atomic():
        change = ReleaseDateChange.objects.create(
            release=release,
            previous_date=release.planned_date,
            previous_status=release.date_status,
            date=date,
            date_precision=precision,
            status=status,
            note=note,
            announced_on=announced_on,
            changed_at=now,
            actor_label=actor.label,
        )
        # A date announced where there was none is news to its users as much as a move.
        moved = release.planned_date != date
        before = {"date": release.planned_date, "status": release.date_status}
        release.planned_date = date
        release.date_status = status
        release.date_precision = precision
        release.save(update_fields=["planned_date", "date_status", "date_precision"])
        audit.record(
            action="grdf.vega.release.date",
            actor=actor,
            target=release,
            before=before,
            after={"date": date, "status": status, "note": note},
            at=now,
        )
        if moved:
            _notify_moved(release=release, change=change, now=now)
    return change


def _notify_moved(*, release: Release, change: ReleaseDateChange, now: dt.datetime) -> None:
    affected = Usage.objects.filter(item__in=_items_touched_by(release)).select_related(
        "organisation", "item"
    )
    by_org: dict[int, tuple[Organisation, list[str]]] = {}
    for usage in affected:
        by_org.setdefault(usage.organisation_id, (usage.organisation, []))[1].append(
            usage.item.code
        )
    for organisation, codes in by_org.values():
        notify(
            organisation=organisation,
            source=SOURCE,
            kind="release_moved",
            title=f"VEGA : la date de la version {release.code} a changé",
            body=(
                f"Ancienne date : {_fmt(change.previous_date)} ; nouvelle date : "
                f"{_fmt(change.date)} ({change.get_status_display()}). "
                f"Vous utilisez : {', '.join(sorted(codes))}. {change.note}"
            ).strip(),
            severity=Severity.WARNING,
            dedupe_key=f"vega:moved:{release.code}:{change.pk}",
            link="/grdf/vega/",
            now=now,
        )


def _items_touched_by(release: Release) -> list[int]:
    ids = set(
        ItemVersion.objects.filter(superseded_in=release).values_list("item_id", flat=True)
    ) | set(ItemVersion.objects.filter(ends_in=release).values_list("item_id", flat=True))
    ids |= set(CatalogueItem.objects.filter(decommissioned_in=release).values_list("pk", flat=True))
    ids |= set(CatalogueItem.objects.filter(double_run_end=release).values_list("pk", flat=True))
    return sorted(ids)


def _fmt(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "à annoncer"


# -- what an organisation uses ------------------------------------------------------------------


def find_item(code: str) -> CatalogueItem | None:
    """An item by its code or one of its aliases, ignoring case."""
    found = CatalogueItem.objects.filter(code__iexact=code.strip()).first()
    if found is not None:
        return found
    wanted = code.strip().lower()
    for item in CatalogueItem.objects.exclude(aliases=""):
        if wanted in (a.lower() for a in item.alias_list()):
            return item
    return None


def save_usage(
    *,
    organisation: Organisation,
    item: CatalogueItem,
    version: str,
    note: str = "",
    actor: Actor = NOBODY,
    now: dt.datetime,
) -> Usage:
    version = version.strip().upper()
    if not ItemVersion.objects.filter(item=item, version=version).exists():
        known = ", ".join(item.versions.values_list("version", flat=True))
        raise UnknownVersion(f"version inconnue pour {item.code} (connues : {known or 'aucune'})")
    with transaction.atomic():
        usage = (
            Usage.objects.select_for_update().filter(organisation=organisation, item=item).first()
        )
        before = {"version": usage.version, "note": usage.note} if usage else None
        if usage is None:
            usage = Usage(organisation=organisation, item=item)
        usage.version = version
        usage.note = note
        usage.updated_at = now
        usage.save()
        audit.record(
            action="grdf.vega.usage.save",
            actor=actor,
            organisation=organisation,
            target=usage,
            before=before,
            after={"item": item.code, "version": version, "note": note},
            at=now,
        )
    return usage


def delete_usage(*, usage: Usage, actor: Actor = NOBODY, now: dt.datetime) -> None:
    with transaction.atomic():
        audit.record(
            action="grdf.vega.usage.delete",
            actor=actor,
            organisation=usage.organisation,
            target=usage,
            before={"item": usage.item.code, "version": usage.version},
            at=now,
        )
        usage.delete()


# -- the migration view -------------------------------------------------------------------------


@dataclass(frozen=True)
class MigrationRow:
    """One item in use: the release that ends its version, days left, what replaces it."""

    usage: Usage
    item: CatalogueItem
    version: str
    changes_in: Release | None
    ends_in: Release | None
    end_is_proposal: bool
    end_date: dt.date | None
    date_status: str
    days_left: int | None
    replacement: str
    double_run: str
    recommendation: str
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.item.code,
            "nature": self.item.kind,
            "version": self.version,
            "nouvelle_version_en": self.changes_in.code if self.changes_in else None,
            "fin_en": self.ends_in.code if self.ends_in else None,
            "fin_proposee": self.end_is_proposal,
            "date_fin": self.end_date,
            "statut_date": self.date_status,
            "jours_restants": self.days_left,
            "remplacement": self.replacement,
            "double_run": self.double_run,
            "preconisation": self.recommendation,
            "statut": self.status,
        }


STATUS_LABELS = {
    "depasse": "version terminée",
    "urgent": "moins de 30 jours",
    "a_planifier": "moins de 90 jours",
    "planifie": "plus de 90 jours",
    "date_inconnue": "date de fin à annoncer",
    "sans_fin": "pas de fin annoncée",
}


def end_release(item: CatalogueItem, version: ItemVersion | None) -> Release | None:
    if version is not None and version.ends_in is not None:
        return version.ends_in
    return item.decommissioned_in or item.double_run_end


def migration_rows(*, organisation: Organisation, today: dt.date) -> list[MigrationRow]:
    usages = Usage.objects.filter(organisation=organisation).select_related(
        "item__double_run_start", "item__double_run_end", "item__decommissioned_in"
    )
    versions = {
        (v.item_id, v.version): v
        for v in ItemVersion.objects.filter(item_id__in=[u.item_id for u in usages]).select_related(
            "superseded_in", "ends_in"
        )
    }
    rows = []
    for usage in usages:
        item = usage.item
        version = versions.get((item.pk, usage.version))
        ends = end_release(item, version)
        end_date = ends.planned_date if ends else None
        days = (end_date - today).days if end_date else None
        if ends is None:
            status = "sans_fin"
        elif days is None:
            status = "date_inconnue"
        elif days < 0:
            status = "depasse"
        elif days <= 30:
            status = "urgent"
        elif days <= 90:
            status = "a_planifier"
        else:
            status = "planifie"
        rows.append(
            MigrationRow(
                usage=usage,
                item=item,
                version=usage.version,
                changes_in=version.superseded_in if version else None,
                ends_in=ends,
                end_is_proposal=bool(version and version.end_is_proposal),
                end_date=end_date,
                date_status=ends.get_date_status_display() if ends else "",
                days_left=days,
                replacement=item.replacement,
                double_run=double_run_label(item),
                recommendation=item.recommendation,
                status=status,
            )
        )
    order = list(STATUS_LABELS)
    rows.sort(
        key=lambda r: (order.index(r.status), r.days_left if r.days_left is not None else 10**6)
    )
    return rows


def double_run_label(item: CatalogueItem) -> str:
    if item.no_double_run:
        return "pas de double run"
    if item.double_run_start and item.double_run_end:
        return f"{item.double_run_start.code} → {item.double_run_end.code}"
    return ""


# -- reminders ----------------------------------------------------------------------------------


def send_end_reminders(*, now: dt.datetime) -> int:
    """The 90/30/7-day reminders due today for every version in use whose end has a date.

    Each (usage, release, threshold, date) is sent once; a moved date opens new reminders.
    """
    today = local_day_of(now)
    sent = 0
    organisations = Organisation.objects.filter(vega_usages__isnull=False).distinct()
    for organisation in organisations:
        for row in migration_rows(organisation=organisation, today=today):
            if row.end_date is None or row.days_left is None or row.ends_in is None:
                continue
            due = [d for d in REMINDER_DAYS if row.days_left <= d]
            if not due or row.days_left < 0:
                continue
            days = min(due)
            _, created = UsageAlert.objects.get_or_create(
                usage=row.usage,
                release=row.ends_in,
                days=days,
                end_date=row.end_date,
                defaults={"sent_at": now},
            )
            if not created:
                continue
            notify(
                organisation=organisation,
                source=SOURCE,
                kind="version_end",
                title=(
                    f"VEGA : {row.item.code} {row.version} se termine avec la version "
                    f"{row.ends_in.code} dans {row.days_left} jours"
                ),
                body=(
                    f"Fin le {_fmt(row.end_date)} ({row.date_status}). "
                    f"Remplacement : {row.replacement or 'non précisé'}. "
                    f"Double run : {row.double_run or 'non annoncé'}."
                ),
                severity=SEVERITY_BY_DAYS[days],
                dedupe_key=f"vega:end:{row.usage.pk}:{row.ends_in.code}:{days}:{row.end_date}",
                link="/grdf/vega/",
                now=now,
            )
            sent += 1
    return sent
