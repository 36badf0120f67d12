"""Rights declared outside the hub, and the alerts of a right's life at GRDF."""

from __future__ import annotations

import datetime as dt

import pytest

from grdf_access import alerts, simulator
from grdf_access.models import AccessRight, DataType, ProofStatus, RightState
from grdf_access.services import sync_rights
from grdf_access.simulator import rights as sim_rights
from grdf_access.sync import full_sync
from hub.models import AuditEvent, Notification, ProviderCredential, Severity
from tests.conftest import make_tenant
from tests.grdf_access.conftest import NOW, PCE_ID, TODAY, active_right, counters

pytestmark = pytest.mark.django_db

EXTERNAL_PCE = "GI777777"


def seed_external(client_id: str, *, state: str = "Active", pce: str = EXTERNAL_PCE) -> str:
    [grdf_id] = simulator.seed_rights(
        client_id=client_id,
        pces=[pce],
        data_start=dt.date(2026, 1, 1),
        data_end=dt.date(2027, 6, 30),
        consent_start=dt.date(2026, 1, 1),
        consent_end=dt.date(2027, 6, 30),
        types=("publiees", "informatives", "techniques"),
        state_label=state,
    )
    return grdf_id


def test_rights_declared_outside_the_hub_are_imported_as_external(
    tenant, gateway, settings
) -> None:
    """Reference grdf-adict.md §1.3: "GET /droits_acces — List all my access rights": every
    right of the credential, wherever it was declared, with its state (§1.6: Active, A valider,
    Révoquée, A revérifier, Obsolète, Refusée). The rights table must hold them all."""
    settings.GRDF_EXTERNAL_RIGHTS_ORGANISATION = tenant.organisation.slug
    active_id = seed_external(settings.GRDF_CLIENT_ID)
    refused_id = seed_external(settings.GRDF_CLIENT_ID, state="Refusée", pce="GI777778")
    report = full_sync(
        organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY, force=True
    )
    imported = {r.grdf_id: r for r in AccessRight.objects.filter(external=True)}
    assert set(imported) == {active_id, refused_id}
    active = imported[active_id]
    assert active.organisation == tenant.organisation
    assert active.pce.identifier == EXTERNAL_PCE
    assert active.state == RightState.ACTIVE
    assert (active.consent_start, active.consent_end) == (dt.date(2026, 1, 1), dt.date(2027, 6, 30))
    assert set(active.granted_types) == {
        DataType.PUBLISHED,
        DataType.INFORMATIVE_DAILY,
        DataType.TECHNICAL,
    }
    assert imported[refused_id].state == RightState.REFUSED
    assert AuditEvent.objects.filter(action="grdf.right.imported").count() == 2
    # Its data are then fetched inside its consent like any other right's.
    assert report.data.points > 0 and counters()["outside_consent"] == 0
    # A second sync imports nothing twice.
    again = sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW)
    assert again.imported == 0 and AccessRight.objects.count() == 2


def test_the_shared_credential_imports_into_no_other_tenant(tenant, gateway, settings) -> None:
    """The settings' credential serves every organisation without one: its external rights
    go only to the organisation named as its owner, never to another tenant."""
    other = make_tenant("other")
    seed_external(settings.GRDF_CLIENT_ID)
    sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW)
    assert not AccessRight.objects.exists()
    settings.GRDF_EXTERNAL_RIGHTS_ORGANISATION = other.organisation.slug
    sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW)
    assert not AccessRight.objects.exists()


def test_an_organisations_own_credential_imports_into_it(sim, tenant) -> None:
    from grdf_access.adict_gateway import gateway_for

    ProviderCredential.objects.create(
        organisation=tenant.organisation,
        provider="grdf",
        client_id="acme-grdf",
        secret=simulator.secret_for("acme-grdf"),
    )
    seed_external("acme-grdf")
    seed_external("someone-else", pce="GI777779")  # another account's right: never listed
    with gateway_for(tenant.organisation) as own:
        report = sync_rights(organisation=tenant.organisation, gateway=own, now=NOW)
    assert report.imported == 1
    assert list(AccessRight.objects.values_list("pce__metering_point__identifier", "external")) == [
        (EXTERNAL_PCE, True)
    ]


# -- alerts -------------------------------------------------------------------------------------


def open_alerts(kind: str = "") -> list[Notification]:
    found = Notification.objects.filter(source="grdf", resolved_at__isnull=True)
    if kind:
        found = found.filter(kind=kind)
    return list(found)


@pytest.mark.parametrize(
    ("act", "kind"),
    [
        (simulator.revoke_by_holder, "right_revoked"),
        (simulator.make_obsolete, "right_obsolete"),
    ],
)
def test_a_right_revoked_or_made_obsolete_at_grdf_is_alerted_once(
    tenant, gateway, act, kind
) -> None:
    """Reference §1.6: GRDF's states "Révoquée" (by the holder) and "Obsolète" (after a
    move-out, §1.3) end the right; the hub learns them by polling (§3.5 "Poll droits_acces
    daily to detect revocation/obsolescence and proof requests")."""
    right = active_right(tenant)
    act(right.grdf_id)
    sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW)
    [alert] = open_alerts(kind)
    assert PCE_ID in alert.title and alert.link == f"/grdf/droits/{right.pk}/"
    assert set(alert.emailed_to) == {tenant.operator.email, tenant.admin.email}
    # Deduplicated: the next polls count it, they do not repeat it.
    sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW + dt.timedelta(hours=1))
    assert len(open_alerts(kind)) == 1
    # Resolved once the PCE has an Active right again.
    active_right(tenant)
    sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW + dt.timedelta(hours=2))
    assert open_alerts(kind) == []


def test_a_refused_request_is_alerted(tenant, gateway) -> None:
    """Reference §1.6: a TIERS_DIRECT request the holder refuses, or leaves unanswered, becomes
    "Refusée" ("La durée de validité de la demande d'accréditation est dépassée")."""
    from django.conf import settings

    right = active_right(tenant)
    right.state = RightState.TO_VALIDATE
    right.save()
    # At GRDF too the request waits for the holder, who refuses it.
    stored = sim_rights.load(right.grdf_id, client_id=settings.GRDF_CLIENT_ID)
    assert stored is not None
    sim_rights.save({**stored, "etat_droit_acces": "A valider"})
    simulator.refuse_right(right.grdf_id)
    sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW)
    [alert] = open_alerts("right_refused")
    assert "refusé" in alert.title


def test_a_security_control_is_alerted_with_its_deadline_then_reminded(tenant, gateway) -> None:
    """Reference §1.6: "statut_controle_preuve: Preuve en attente …", with the deadline
    "date_limite_transmission_preuve"; LOWATT flags "Preuve en attente" as needing action.
    Alerted when opened, then 7 days and 1 day before the deadline; resolved when the proof
    status leaves "Preuve en attente"."""
    right = active_right(tenant)
    simulator.request_proofs(right.grdf_id)
    sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW)
    right.refresh_from_db()
    assert right.proof_status == ProofStatus.AWAITED
    deadline = right.proof_deadline
    assert deadline is not None
    [opened] = open_alerts("proof_requested")
    assert f"{deadline:%d/%m/%Y}" in opened.body
    assert open_alerts("proof_deadline") == []

    def on(day: dt.date) -> None:
        at = dt.datetime.combine(day, dt.time(10), tzinfo=NOW.tzinfo)
        alerts.refresh(organisation=tenant.organisation, now=at, today=day)

    on(deadline - dt.timedelta(days=8))
    assert open_alerts("proof_deadline") == []
    on(deadline - dt.timedelta(days=7))
    [week] = open_alerts("proof_deadline")
    assert week.severity == Severity.WARNING
    on(deadline - dt.timedelta(days=1))
    reminders = open_alerts("proof_deadline")
    assert len(reminders) == 2
    assert {r.severity for r in reminders} == {Severity.WARNING, Severity.CRITICAL}

    simulator.settle_proofs(right.grdf_id, accepted=True)
    sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW)
    assert open_alerts("proof_requested") == [] and open_alerts("proof_deadline") == []


def test_a_consent_ending_within_30_days_is_alerted_until_extended(tenant, gateway) -> None:
    """Seed 000: data only within the consent dates; the customer is asked for a new consent
    before it ends. Alerted 30 days before the end, resolved once it is extended."""
    right = active_right(tenant, consent_end=TODAY + dt.timedelta(days=31), data_end=TODAY)
    alerts.refresh(organisation=tenant.organisation, now=NOW, today=TODAY)
    assert open_alerts("consent_ending") == []
    tomorrow = TODAY + dt.timedelta(days=1)
    alerts.refresh(organisation=tenant.organisation, now=NOW, today=tomorrow)
    [alert] = open_alerts("consent_ending")
    assert f"{right.consent_end:%d/%m/%Y}" in alert.title
    right.consent_end = TODAY + dt.timedelta(days=400)
    right.save()
    alerts.refresh(organisation=tenant.organisation, now=NOW, today=tomorrow)
    assert open_alerts("consent_ending") == []


def test_alerts_stay_within_their_tenant(tenant, gateway) -> None:
    other = make_tenant("other")
    right = active_right(tenant)
    simulator.revoke_by_holder(right.grdf_id)
    sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW)
    sync_rights(organisation=other.organisation, gateway=gateway, now=NOW)
    assert {n.organisation_id for n in open_alerts()} == {tenant.organisation.pk}
