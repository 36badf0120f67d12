"""Access rights against the simulator: every operation and every state change, all audited."""

from __future__ import annotations

import datetime as dt

import pytest

from grdf_access import services, simulator, specs
from grdf_access.adict_gateway import AdictGateway
from grdf_access.models import AccessRight, ProofStatus, RightState
from grdf_access.sync import sync_data
from hub.models import AuditEvent
from tests.conftest import Tenant
from tests.grdf_access.conftest import NOW, PCE_ID, TODAY, active_right, counters

pytestmark = pytest.mark.django_db


def spec(**overrides: object) -> specs.RightSpec:
    raw: dict[str, object] = {
        "pce": PCE_ID,
        "role": "autorise",
        "raison_sociale": "Acme SA",
        "courriel_titulaire": "energie@acme.example",
        "code_postal": "75011",
        "debut_consentement": "2026-11-01",
        "fin_consentement": "2027-10-31",
        "debut_donnees": "2026-01-01",
        "fin_donnees": "2027-10-31",
        "publiees": True,
        "informatives_journalieres": True,
    }
    raw.update(overrides)
    return specs.validate(raw, today=TODAY)


def declare(tenant: Tenant, gateway: AdictGateway, **overrides: object) -> AccessRight:
    [right] = services.declare_rights(
        organisation=tenant.organisation, specs=[spec(**overrides)], gateway=gateway, now=NOW
    )
    return right


def sync(tenant: Tenant, gateway: AdictGateway, at: dt.datetime = NOW) -> None:
    services.sync_rights(organisation=tenant.organisation, gateway=gateway, now=at)


def actions(right: AccessRight) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(right.pk), object_type="grdf_access.AccessRight")
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )


def test_third_party_declaration_waits_then_holder_validates(tenant, gateway) -> None:
    right = declare(tenant, gateway)
    assert right.state == RightState.TO_VALIDATE and right.grdf_id
    # Technical data are every supplier's by default: part of the right without being asked.
    assert right.technical and not right.contractual
    simulator.validate_right(right.grdf_id)
    sync(tenant, gateway)
    right.refresh_from_db()
    assert right.state == RightState.ACTIVE
    assert actions(right) == [
        "grdf.right.created",
        "grdf.right.declared",
        "grdf.right.state_changed",
    ]
    event = AuditEvent.objects.get(action="grdf.right.state_changed")
    assert event.before["state"] == RightState.TO_VALIDATE and event.after["state"] == "Active"


def test_unanswered_request_is_refused_after_the_delay(tenant, gateway) -> None:
    right = declare(tenant, gateway)
    later = NOW + simulator.VALIDATION_DELAY + dt.timedelta(hours=1)
    simulator.set_now(later)
    sync(tenant, gateway, at=later)
    right.refresh_from_db()
    assert right.state == RightState.REFUSED
    assert "validité" in right.state_reason


def test_holder_declaration_is_active_at_once(tenant, gateway) -> None:
    right = declare(tenant, gateway, role="titulaire")
    assert right.state == RightState.ACTIVE
    # A holder has published, contractual and technical data by default (seed 000).
    assert right.published and right.contractual and right.technical


def test_grdf_refusal_leaves_the_right_rejected_with_the_reason(tenant, gateway) -> None:
    right = declare(tenant, gateway, code_postal=simulator.MISMATCH_POSTCODE)
    assert right.state == RightState.DECLARATION_FAILED
    assert "code postal" in right.state_reason
    assert actions(right)[-1] == "grdf.right.declaration_failed"


def test_second_open_right_on_a_pce_is_refused_locally(tenant, gateway) -> None:
    declare(tenant, gateway)
    with pytest.raises(services.RightError) as error:
        declare(tenant, gateway)
    assert error.value.field == "pce"
    assert counters()["declarations"] == 1


def test_revocation_by_the_holder_stops_every_fetch(tenant, gateway) -> None:
    right = active_right(tenant)
    simulator.revoke_by_holder(right.grdf_id)
    sync(tenant, gateway)
    right.refresh_from_db()
    assert right.state == RightState.REVOKED
    before = counters()["data_requests"]
    report = sync_data(
        organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY, force=True
    )
    assert report.tasks == 0
    assert counters()["data_requests"] == before
    assert counters()["outside_consent"] == 0


def test_obsolete_right_is_followed(tenant, gateway) -> None:
    right = active_right(tenant)
    simulator.make_obsolete(right.grdf_id)
    sync(tenant, gateway)
    right.refresh_from_db()
    assert right.state == RightState.OBSOLETE


def test_revoke_and_terminate_from_the_hub(tenant, gateway) -> None:
    revoked = active_right(tenant)
    services.revoke_right(right=revoked, gateway=gateway, now=NOW, today=TODAY)
    assert revoked.state == RightState.REVOKED and revoked.consent_end == TODAY
    assert simulator.get_right(revoked.grdf_id)["etat_droit_acces"] == "Révoquée"
    with pytest.raises(services.RightError):
        services.revoke_right(right=revoked, gateway=gateway, now=NOW, today=TODAY)

    terminated = active_right(tenant, pce="GI777777")
    services.terminate_right(right=terminated, gateway=gateway, now=NOW, today=TODAY)
    assert terminated.state == RightState.TERMINATED
    assert simulator.get_right(terminated.grdf_id)["etat_droit_acces"] == "Résiliée"
    assert actions(revoked)[-1] == "grdf.right.revoked"
    assert actions(terminated)[-1] == "grdf.right.terminated"
    sync(tenant, gateway)  # GRDF agrees: nothing changes
    assert AccessRight.objects.get(pk=terminated.pk).state == RightState.TERMINATED


def test_modification_narrowing_keeps_active_widening_asks_the_holder(tenant, gateway) -> None:
    right = active_right(tenant)
    services.modify_right(
        right=right,
        changes=services.RightChanges(data_start=dt.date(2026, 3, 1)),
        gateway=gateway,
        now=NOW,
        today=TODAY,
    )
    assert right.state == RightState.ACTIVE and right.data_start == dt.date(2026, 3, 1)
    services.modify_right(
        right=right,
        changes=services.RightChanges(consent_end=dt.date(2027, 12, 31)),
        gateway=gateway,
        now=NOW,
        today=TODAY,
    )
    assert right.state == RightState.TO_VALIDATE
    assert actions(right)[-2:] == ["grdf.right.modified", "grdf.right.modified"]
    with pytest.raises(services.RightError) as error:
        services.modify_right(
            right=right,
            changes=services.RightChanges(data_end=dt.date(2028, 1, 1)),
            gateway=gateway,
            now=NOW,
            today=TODAY,
        )
    assert error.value.field == "fin_donnees"


def test_security_control_is_followed(tenant, gateway) -> None:
    right = active_right(tenant)
    simulator.request_proofs(right.grdf_id)
    sync(tenant, gateway)
    right.refresh_from_db()
    assert right.proof_status == ProofStatus.AWAITED
    assert right.proof_deadline == TODAY + dt.timedelta(days=15)
    assert right.days_left_for_proofs(TODAY) == 15
    simulator.settle_proofs(right.grdf_id, accepted=False)
    sync(tenant, gateway)
    right.refresh_from_db()
    assert right.proof_status == ProofStatus.KO
