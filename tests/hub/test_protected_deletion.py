"""A metering point something still depends on cannot be deleted: 409 naming what holds it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.db.models import ProtectedError
from django.test import RequestFactory

from grdf_access.models import AccessRight, Pce, Proof, RightState, Role
from grdf_access.services import ensure_pce
from hub.errors import ServiceErrorsMiddleware
from hub.models import AuditEvent, MeteringPoint
from smartoa.services import create_contract
from tic.models import TicMeter, TicPort

pytestmark = pytest.mark.django_db


def _right(tenant) -> AccessRight:
    pce = ensure_pce(organisation=tenant.organisation, identifier="GI100001")
    return AccessRight.objects.create(
        organisation=tenant.organisation,
        pce=pce,
        grdf_id="right-1",
        role=Role.AUTHORISED,
        holder_company="Acme SA",
        postcode="75011",
        consent_start=dt.date(2026, 1, 1),
        consent_end=dt.date(2027, 1, 1),
        data_start=dt.date(2026, 1, 1),
        data_end=dt.date(2027, 1, 1),
        state=RightState.ACTIVE,
    )


def test_point_with_a_grdf_right_is_kept_and_the_answer_names_the_pce(operator_client, tenant):
    """Finding: "Deleting a metering point cascades away a PCE, its access rights and proofs,
    without audit ... A metering point with rights, contracts or meters cannot be deleted
    (409 naming what holds it)"."""
    right = _right(tenant)
    point = right.pce.metering_point
    response = operator_client.delete(f"/api/v1/metering-points/{point.pk}/")
    assert response.status_code == 409
    assert response.json()["held_by"] == ["PCE (1)"]
    assert AccessRight.objects.filter(pk=right.pk).exists()
    assert MeteringPoint.objects.filter(pk=point.pk).exists()
    assert not AuditEvent.objects.filter(action="metering_point.deleted").exists()


def test_a_pce_with_rights_cannot_be_deleted_around_the_rights_flows(tenant):
    right = _right(tenant)
    with pytest.raises(ProtectedError):
        Pce.objects.get(pk=right.pce_id).delete()


def test_point_with_a_tic_meter_is_a_409_not_a_500(operator_client, tenant):
    """ "`ProtectedError` anywhere → 409, not 500 (the TIC meter's PROTECT gives a 500 today)"."""
    port = TicPort.objects.create(organisation=tenant.organisation, name="p", url="loop://")
    TicMeter.objects.create(
        organisation=tenant.organisation,
        port=port,
        metering_point=tenant.point,
        identifier="041436028024",
        family="pmepmi",
    )
    response = operator_client.delete(f"/api/v1/metering-points/{tenant.point.pk}/")
    assert response.status_code == 409
    assert response.json()["held_by"] == ["compteur TIC (1)"]


def test_point_with_a_smartoa_contract_or_a_tic_port_is_kept(operator_client, tenant):
    create_contract(
        organisation=tenant.organisation,
        contract_id="BOA-KEEP-000001",
        account_id="x",
        api_token="secret",
        metering_point=tenant.point,
    )
    TicPort.objects.create(
        organisation=tenant.organisation, name="p", url="loop://", metering_point=tenant.point
    )
    response = operator_client.delete(f"/api/v1/metering-points/{tenant.point.pk}/")
    assert response.status_code == 409
    assert response.json()["held_by"] == ["contrat Smart OA (1)", "port TIC (1)"]


def test_a_free_point_is_deleted_and_audited(operator_client, tenant):
    response = operator_client.delete(f"/api/v1/metering-points/{tenant.point.pk}/")
    assert response.status_code == 204
    event = AuditEvent.objects.get(action="metering_point.deleted")
    assert event.before == {"kind": tenant.point.kind, "identifier": tenant.point.identifier}
    assert event.actor == tenant.operator


def test_the_portal_answers_409_naming_what_holds_a_row(tenant):
    right = _right(tenant)
    try:
        right.pce.metering_point.delete()
    except ProtectedError as exc:
        error = exc
    request = RequestFactory().post("/some/portal/page/")
    response = ServiceErrorsMiddleware(lambda r: None).process_exception(request, error)  # type: ignore[arg-type]
    assert response is not None and response.status_code == 409
    assert "PCE (1)" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_proof_file_goes_with_its_row(tenant):
    """ "files removed with their rows"."""
    right = _right(tenant)
    proof = Proof(
        right=right,
        filename="consent.pdf",
        content_type="application/pdf",
        size=4,
        sha256="0" * 64,
        uploaded_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
    )
    proof.file.save("consent.pdf", ContentFile(b"%PDF"), save=True)
    storage, name = proof.file.storage, proof.file.name
    assert storage.exists(name)
    proof.delete()
    assert not storage.exists(name)
