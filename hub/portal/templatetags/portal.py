from __future__ import annotations

from typing import Any

from django import template

from hub.portal.views.dashboard import organisation_context

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_header(context: Any) -> dict[str, object]:
    """The signed-in person's memberships and current one, for the page header."""
    request = context.get("request")
    return organisation_context(request) if request is not None else {}
