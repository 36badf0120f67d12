"""django-otp-webauthn's endpoints under its own namespace (its template tags reverse them)."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog

from hub.portal import webauthn

app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registration/begin/",
        webauthn.BeginRegistration.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        webauthn.CompleteRegistration.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        webauthn.BeginAuthentication.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        webauthn.CompleteAuthentication.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        # hub.portal adds the French the package lacks for its scripts' messages.
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn", "hub.portal"]),
        name="js-i18n-catalog",
    ),
]
