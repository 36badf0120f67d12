from __future__ import annotations

from typing import Any

from django import template

from hub.portal import menu
from hub.portal.views.dashboard import organisation_context

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_header(context: Any) -> dict[str, object]:
    """The signed-in person's memberships and current one, for the page header."""
    request = context.get("request")
    return organisation_context(request) if request is not None else {}


@register.simple_tag(takes_context=True)
def portal_menu(context: Any, header: dict[str, Any]) -> list[menu.MenuLink]:
    """The menu entries the current membership may open (registered by hub and the apps)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return menu.links(
        membership=header.get("portal_membership"),
        is_staff=bool(getattr(user, "is_staff", False)),
    )
