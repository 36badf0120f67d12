"""The current organisation at a glance, and switching organisation."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from hub.models import Membership, MeteringPoint, Notification, PollRun, Role
from hub.portal import cards
from hub.portal.access import (
    is_verified,
    membership_of,
    role_required,
    safe_next,
    verified_required,
)
from hub.tenancy import SESSION_KEY, memberships_of

POINTS_SHOWN = 200
RUNS_SHOWN = 20
NOTIFICATIONS_SHOWN = 20


@role_required(Role.VIEWER)
def dashboard(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    organisation = membership.organisation
    points = MeteringPoint.objects.filter(organisation=organisation).select_related("site")
    runs = PollRun.objects.filter(organisation=organisation).order_by("-started_at")
    notifications = Notification.objects.filter(organisation=organisation, resolved_at__isnull=True)
    return render(
        request,
        "portal/dashboard.html",
        {
            "organisation": organisation,
            "points": points[:POINTS_SHOWN],
            "points_total": points.count(),
            "runs": runs[:RUNS_SHOWN],
            "notifications": notifications[:NOTIFICATIONS_SHOWN],
            "cards": cards.render_cards(
                organisation=organisation, now=timezone.now(), request=request
            ),
            "can_close": membership.allows(Role.OPERATOR),
        },
    )


@require_POST
@role_required(Role.OPERATOR)
def close_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """An operator marks an alert as handled; the same condition may then be raised again."""
    notification = get_object_or_404(
        Notification, pk=pk, organisation=membership_of(request).organisation
    )
    if notification.resolved_at is None:
        notification.resolved_at = timezone.now()
        notification.save(update_fields=["resolved_at"])
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse("")
    return redirect("portal:dashboard")


@require_POST
@verified_required
def switch_organisation(request: HttpRequest) -> HttpResponse:
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        raise Http404 from None
    # Only an organisation the person belongs to; any other id is as good as nonexistent.
    if not Membership.objects.filter(
        user_id=int(request.user.pk or 0), organisation_id=organisation_id
    ).exists():
        raise Http404
    request.session[SESSION_KEY] = organisation_id
    return redirect(safe_next(request))


def organisation_context(request: HttpRequest) -> dict[str, object]:
    """Template context: the person's memberships, for the switcher in the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not is_verified(user):
        return {}
    memberships = memberships_of(user)
    chosen = request.session.get(SESSION_KEY)
    current = next((m for m in memberships if m.organisation_id == chosen), None)
    return {
        "portal_memberships": memberships,
        "portal_membership": current or (memberships[0] if memberships else None),
    }
