"""Control reads for the portal and the API: a site's loads, holders, overrides and commands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from hub.clock import local_day_bounds, local_day_of
from hub.control import registry
from hub.control.models import Command, ControllableLoad, ManualOverride, SiteControl
from hub.models import Organisation, Site


def sites(*, organisation: Organisation) -> QuerySet[Site]:
    return Site.objects.filter(organisation=organisation).order_by("name")


def loads(*, organisation: Organisation) -> QuerySet[ControllableLoad]:
    return ControllableLoad.objects.filter(organisation=organisation).select_related(
        "channel", "site", "metering_point"
    )


def overrides(*, organisation: Organisation) -> QuerySet[ManualOverride]:
    return ManualOverride.objects.filter(organisation=organisation).select_related("load")


def commands_of_day(*, site: Site, day: dt.date) -> QuerySet[Command]:
    start, end = local_day_bounds(day)
    return (
        Command.objects.filter(load__site=site, at__gte=start, at__lt=end)
        .select_related("load")
        .order_by("-at", "-pk")
    )


@dataclass(frozen=True)
class SiteState:
    site: Site
    control: SiteControl | None
    loads: list[ControllableLoad]
    overrides: list[ManualOverride]  # running or to come
    planned: list[registry.Planned]
    commands: list[Command]  # today's, newest first


def site_state(*, site: Site, now: dt.datetime) -> SiteState:
    site_loads = list(
        ControllableLoad.objects.filter(site=site)
        .select_related("channel", "metering_point")
        .order_by("priority", "pk")
    )
    planned: list[registry.Planned] = []
    for controller in registry.controllers():
        try:
            planned.extend(controller.planned(site=site, loads=site_loads, now=now))
        except Exception:  # noqa: S112 - an announcement must not take the page down
            continue
    return SiteState(
        site=site,
        control=SiteControl.objects.filter(site=site).first(),
        loads=site_loads,
        overrides=list(
            ManualOverride.objects.filter(
                load__site=site, ends_at__gt=now, cancelled_at__isnull=True
            )
            .select_related("load")
            .order_by("starts_at")
        ),
        planned=sorted(planned, key=lambda p: (p.start, p.load_id)),
        commands=list(commands_of_day(site=site, day=local_day_of(now))[:200]),
    )


def loads_of_site(*, site: Site) -> QuerySet[ControllableLoad]:
    return (
        ControllableLoad.objects.filter(organisation_id=site.organisation_id, site=site)
        .select_related("channel")
        .order_by("priority", "pk")
    )
