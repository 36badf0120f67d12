"""TJDC and PPH subscriptions in the portal: list, subscribe, cancel, mass subscription by CSV.

Seed 000: RSF turns TJDC/PPH into subscriptions ("WS abonnement (TJDC & PPH)", target
"Déclaration en masse abonnement PPH & TJDC"), inside the consent like every data access
(TJDC sends informative daily data, PPH hourly steps).
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from grdf_access import subscription_import
from grdf_access.models import Subscription, SubscriptionState
from tests.conftest import Tenant
from tests.grdf_access.conftest import PCE_ID, TODAY, active_right
from tests.hub.test_portal_support import sign_in

pytestmark = pytest.mark.django_db

OTHER = "GI999001"


@pytest.fixture
def operator(client: Client, tenant: Tenant) -> Client:
    sign_in(client, tenant.operator)
    return client


def test_subscribe_inside_the_consent_list_and_cancel(sim, tenant, operator) -> None:
    active_right(tenant, types=("informatives",))
    made = operator.post(
        "/grdf/abonnements/", {"pce": PCE_ID, "kind": "TJDC", "start": "2026-11-02", "end": ""}
    )
    assert made.status_code == 302, made.content.decode()
    subscription = Subscription.objects.get()
    assert (subscription.kind, subscription.state) == ("TJDC", SubscriptionState.ACTIVE)
    assert subscription.grdf_id

    # PPH sends hourly data: the right does not grant them.
    refused = operator.post(
        "/grdf/abonnements/", {"pce": PCE_ID, "kind": "PPH", "start": "2026-11-02", "end": ""}
    )
    assert refused.status_code == 400
    assert "hors consentement" in refused.content.decode()

    page = operator.get("/grdf/abonnements/")
    assert page.status_code == 200 and PCE_ID in page.content.decode()

    cancelled = operator.post(f"/grdf/abonnements/{subscription.pk}/resilier/")
    assert cancelled.status_code == 302
    subscription.refresh_from_db()
    assert subscription.state == SubscriptionState.CANCELLED and subscription.end == TODAY


def test_a_viewer_lists_but_does_not_subscribe(sim, tenant, client: Client) -> None:
    active_right(tenant, types=("informatives",))
    sign_in(client, tenant.viewer)
    assert client.get("/grdf/abonnements/").status_code == 200
    posted = client.post(
        "/grdf/abonnements/", {"pce": PCE_ID, "kind": "TJDC", "start": "2026-11-02"}
    )
    assert posted.status_code == 403
    assert client.get("/grdf/abonnements/import/").status_code == 403


def csv(*lines: str) -> bytes:
    return ("pce;type;debut;fin\r\n" + "\r\n".join(lines) + "\r\n").encode()


def test_mass_subscription_dry_run_reports_every_bad_line(sim, tenant) -> None:
    """The same dry-run report as the PCE import: every bad row with its line number, nothing
    sent while one is wrong."""
    active_right(tenant, types=("informatives",))
    active_right(tenant, pce=OTHER, types=("publiees",))
    parsed = subscription_import.parse(
        csv(
            f"{PCE_ID};TJDC;02/11/2026;",  # line 2: fine
            "GI000001;TJDC;02/11/2026;",  # line 3: not a PCE of the organisation
            f"{PCE_ID};ABC;02/11/2026;",  # line 4: type
            f"{PCE_ID};PPH;31/02/2026;",  # line 5: date
            f"{OTHER};TJDC;02/11/2026;",  # line 6: outside the consent (no informative)
            f"{PCE_ID};TJDC;02/11/2026;",  # line 7: duplicate of line 2
            f"{PCE_ID};PPH;02/11/2026;01/11/2026",  # line 8: end before start
        ),
        organisation=tenant.organisation,
        today=TODAY,
    )
    assert not parsed.ok
    assert [(e.line, e.field) for e in parsed.errors] == [
        (3, "pce"),
        (4, "type"),
        (5, "debut"),
        (6, "type"),
        (7, "pce"),
        (8, "fin"),
    ]
    assert "hors consentement" in parsed.errors[3].reason
    assert not Subscription.objects.exists()


def test_mass_subscription_through_the_portal(sim, tenant, operator) -> None:
    active_right(tenant, types=("informatives",))
    active_right(tenant, pce=OTHER, types=("informatives",))
    template = operator.get("/grdf/abonnements/modele.csv")
    assert template.status_code == 200 and template.content.startswith(b"pce;type;debut;fin")

    bad = operator.post(
        "/grdf/abonnements/import/",
        {"file": SimpleUploadedFile("a.csv", csv(f"{PCE_ID};XYZ;02/11/2026;"))},
    )
    assert bad.status_code == 400 and "TJDC ou PPH" in bad.content.decode()

    content = csv(f"{PCE_ID};TJDC;02/11/2026;", f"{OTHER};tjdc;2026-11-02;2027-06-30")
    dry = operator.post(
        "/grdf/abonnements/import/",
        {"file": SimpleUploadedFile("a.csv", io.BytesIO(content).read())},
    )
    assert dry.status_code == 200 and not Subscription.objects.exists()
    token = dry.context["token"]
    assert token
    done = operator.post("/grdf/abonnements/import/", {"confirm": token})
    assert done.status_code == 302
    assert sorted(Subscription.objects.values_list("pce__metering_point__identifier", "kind")) == [
        (PCE_ID, "TJDC"),
        (OTHER, "TJDC"),
    ]
    assert operator.post("/grdf/abonnements/import/", {"confirm": token}).status_code == 302
    assert Subscription.objects.count() == 2  # the same confirmation twice sends nothing again
