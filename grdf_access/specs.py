"""An access-right request as typed in a form, a CSV row or an API body, checked field by field.

One validator for the three doors, so a rule (postcode, dates, holder name) reads the same
everywhere. Messages are French: they are shown to portal users and returned by the API.
GRDF's own declaration rules (reference §1.4): one of the holder's name or company name;
``date_debut_droit_acces`` ≤ today ≤ ``date_fin_droit_acces``; the consumption window ends no
later than the consent; its start is not in the future.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from grdf_access.consent import default_types
from grdf_access.models import DataType, Role
from hub.identifiers import InvalidIdentifier, normalise

POSTCODE = re.compile(r"^[0-9]{5}$")
MOBILE = re.compile(r"^0[67][0-9]{8}$")
# ADICT serves at most five years of published data (reference §1.3).
MAX_HISTORY_YEARS = 5

ROLE_ALIASES = {
    "titulaire": Role.HOLDER,
    "detenteur": Role.HOLDER,
    "détenteur": Role.HOLDER,
    Role.HOLDER.value.lower(): Role.HOLDER,
    "autorise": Role.AUTHORISED,
    "autorisé": Role.AUTHORISED,
    "tiers": Role.AUTHORISED,
    Role.AUTHORISED.value.lower(): Role.AUTHORISED,
}
TRUE = {"oui", "o", "vrai", "true", "1", "x", "yes"}
FALSE = {"non", "n", "faux", "false", "0", "", "no"}


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str


@dataclass
class RightSpec:
    pce: str
    role: str
    postcode: str
    consent_start: dt.date
    consent_end: dt.date
    data_start: dt.date
    data_end: dt.date
    types: frozenset[str]
    holder_name: str = ""
    holder_company: str = ""
    holder_email: str = ""
    holder_phone: str = ""
    site_label: str = ""
    alias: str = ""
    client_name: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def holder(self) -> bool:
        return self.role == Role.HOLDER


class SpecInvalid(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors
        # The first error, for callers that report one (field, reason) pair.
        self.field = errors[0].field
        self.reason = errors[0].reason


def shift_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (or earlier); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def parse_date(value: str) -> dt.date:
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    raise ValueError(value)


def parse_bool(value: str) -> bool:
    cleaned = value.strip().lower()
    if cleaned in TRUE:
        return True
    if cleaned in FALSE:
        return False
    raise ValueError(value)


def validate(raw: Mapping[str, object], *, today: dt.date) -> RightSpec:
    """Check a request given as strings (or dates/bools); raises SpecInvalid with every error."""
    errors: list[FieldError] = []

    def text(name: str) -> str:
        value = raw.get(name)
        return "" if value is None else str(value).strip()

    def date(name: str) -> dt.date | None:
        value = raw.get(name)
        if isinstance(value, dt.date):
            return value
        if not text(name):
            errors.append(FieldError(name, "date obligatoire"))
            return None
        try:
            return parse_date(text(name))
        except ValueError:
            errors.append(FieldError(name, f"date invalide « {text(name)} » (JJ/MM/AAAA)"))
            return None

    pce = ""
    try:
        pce = normalise("gas_pce", text("pce"))
    except InvalidIdentifier as exc:
        errors.append(FieldError("pce", f"PCE invalide « {text('pce')} » : {exc.reason}"))
    role = ROLE_ALIASES.get(text("role").lower())
    if role is None:
        errors.append(FieldError("role", "rôle attendu : titulaire ou autorise"))
    name, company = text("nom_titulaire"), text("raison_sociale")
    if not name and not company:
        errors.append(FieldError("nom_titulaire", "nom du titulaire ou raison sociale obligatoire"))
    elif name and company:
        errors.append(
            FieldError("raison_sociale", "seul le nom ou la raison sociale doit être renseigné")
        )
    email = text("courriel_titulaire")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(FieldError("courriel_titulaire", f"courriel invalide « {email} »"))
    elif role == Role.AUTHORISED:
        # GRDF asks the holder to validate a third party's request by e-mail (reference §1.6).
        errors.append(FieldError("courriel_titulaire", "courriel du titulaire obligatoire"))
    phone = re.sub(r"[\s.]", "", text("mobile_titulaire"))
    if phone and not MOBILE.match(phone):
        errors.append(FieldError("mobile_titulaire", f"mobile invalide « {phone} »"))
    postcode = text("code_postal")
    if not POSTCODE.match(postcode):
        errors.append(
            FieldError("code_postal", f"code postal invalide « {postcode} » (5 chiffres)")
        )

    consent_start, consent_end = date("debut_consentement"), date("fin_consentement")
    data_start, data_end = date("debut_donnees"), date("fin_donnees")
    if consent_start and consent_start > today:
        errors.append(FieldError("debut_consentement", "le consentement ne peut pas être futur"))
    if consent_end and consent_end < today:
        errors.append(FieldError("fin_consentement", "le consentement est déjà terminé"))
    if consent_start and consent_end and consent_end < consent_start:
        errors.append(FieldError("fin_consentement", "avant le début du consentement"))
    if data_start and data_start > today:
        errors.append(FieldError("debut_donnees", "la plage de données ne peut commencer demain"))
    if data_start and data_start < shift_years(today, -MAX_HISTORY_YEARS):
        errors.append(FieldError("debut_donnees", f"plus de {MAX_HISTORY_YEARS} ans d'historique"))
    if data_start and data_end and data_end < data_start:
        errors.append(FieldError("fin_donnees", "avant le début de la plage de données"))
    if data_end and consent_end and data_end > consent_end:
        errors.append(FieldError("fin_donnees", "après la fin du consentement"))

    types: set[str] = set()
    for data_type in DataType.values:
        value = raw.get(data_type)
        try:
            granted = value if isinstance(value, bool) else parse_bool(text(data_type))
        except ValueError:
            errors.append(FieldError(data_type, f"oui ou non attendu, pas « {text(data_type)} »"))
            continue
        if granted:
            types.add(data_type)
    if DataType.INFORMATIVE_HOURLY in types and not settings.GRDF_RSF:
        errors.append(
            FieldError(
                DataType.INFORMATIVE_HOURLY,
                "les données horaires n'existent pas dans l'API ADICT v2 (seulement avec RSF)",
            )
        )
    if role is not None:
        # What the role has by default needs no consent and is always part of the right.
        types |= default_types(holder=role == Role.HOLDER)

    if errors:
        raise SpecInvalid(errors)
    assert role and consent_start and consent_end and data_start and data_end
    return RightSpec(
        pce=pce,
        role=role,
        postcode=postcode,
        consent_start=consent_start,
        consent_end=consent_end,
        data_start=data_start,
        data_end=data_end,
        types=frozenset(types),
        holder_name=name,
        holder_company=company,
        holder_email=email,
        holder_phone=phone,
        site_label=text("libelle_site"),
        alias=text("alias"),
        client_name=text("denomination_client") or company or name,
    )
