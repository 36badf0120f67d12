import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hub import identifiers
from hub.models import MeteringPoint


@pytest.mark.parametrize(
    ("kind", "raw", "clean"),
    [
        ("gas_pce", "GI123456", "GI123456"),
        ("gas_pce", "gi 123 456", "GI123456"),
        ("gas_pce", "12345678901234", "12345678901234"),
        ("elec_prm", "3000 1234 5678 90", "30001234567890"),
        ("tic_meter", "041436028024", "041436028024"),
        ("oa_site", "BOA-2024-000123", "BOA-2024-000123"),
    ],
)
def test_valid_identifiers_are_normalised(kind, raw, clean):
    assert identifiers.normalise(kind, raw) == clean


@pytest.mark.parametrize(
    ("kind", "raw", "reason"),
    [
        ("gas_pce", "GI12345", "14 chiffres"),
        ("gas_pce", "1234567890123", "14 chiffres"),
        ("elec_prm", "GI123456", "PRM"),
        ("tic_meter", "0414", "12 caractères"),
        ("oa_site", "!", "contrat OA"),
        ("water", "1", "inconnu"),
    ],
)
def test_invalid_identifiers_say_why(kind, raw, reason):
    with pytest.raises(identifiers.InvalidIdentifier, match=reason):
        identifiers.normalise(kind, raw)


@pytest.mark.django_db
def test_database_refuses_an_invalid_identifier_even_past_validation(tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        MeteringPoint.objects.create(
            organisation=tenant.organisation, kind="gas_pce", identifier="GI1"
        )


@pytest.mark.django_db
def test_model_clean_reports_the_field(tenant):
    point = MeteringPoint(organisation=tenant.organisation, kind="elec_prm", identifier="123")
    with pytest.raises(ValidationError) as info:
        point.full_clean()
    assert "identifier" in info.value.message_dict
