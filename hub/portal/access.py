"""Who may open a portal page: a signed-in person, verified by a second factor, of some role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from hub.models import Membership, Role
from hub.tenancy import current_membership

View = Callable[..., HttpResponseBase]


def is_verified(user: Any) -> bool:
    """Whether OTPMiddleware marked ``user`` as verified by a second factor in this session."""
    return bool(getattr(user, "is_verified", lambda: False)())


def safe_next(request: HttpRequest, default: str = "/") -> str:
    """The ``next`` the request carries, if it points back into this site; else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def with_next(url_name: str, next_url: str) -> str:
    url = reverse(url_name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url and next_url != "/" else url


def verified_required(view: View) -> View:
    """Signed in with a password *and* a second factor; otherwise on to the missing step."""

    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_verified(user):
            return redirect(with_next("portal:second_factor", request.get_full_path()))
        return view(request, *args, **kwargs)

    return wrapper


def role_required(role: Role) -> Callable[[View], View]:
    """Verified, a member of the current organisation, and holding at least ``role`` there."""

    def decorator(view: View) -> View:
        @verified_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            membership = current_membership(request)
            if membership is None:
                return render(request, "portal/no_organisation.html", status=403)
            if not membership.allows(role):
                raise PermissionDenied
            request.membership = membership  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def membership_of(request: HttpRequest) -> Membership:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    return membership
