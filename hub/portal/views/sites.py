"""The sites of the organisation and one site's view: every app's channel for it, as panels."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from hub.models import MeteringPoint, Role, Site
from hub.portal import panels
from hub.portal.access import membership_of, role_required


@role_required(Role.VIEWER)
def site_list(request: HttpRequest) -> HttpResponse:
    organisation = membership_of(request).organisation
    sites = (
        Site.objects.filter(organisation=organisation)
        .annotate(points_count=Count("metering_points"))
        .order_by("name")
    )
    unattached = MeteringPoint.objects.filter(organisation=organisation, site=None).count()
    return render(request, "portal/site_list.html", {"sites": sites, "unattached": unattached})


@role_required(Role.VIEWER)
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = membership_of(request).organisation
    # Scoped by organisation: a foreign site's id answers 404, like a missing one.
    site = get_object_or_404(Site, pk=pk, organisation=organisation)
    points = list(MeteringPoint.objects.filter(organisation=organisation, site=site))
    rendered = panels.render_panels(site=site, points=points, now=timezone.now(), request=request)
    return render(
        request, "portal/site_detail.html", {"site": site, "points": points, "panels": rendered}
    )
