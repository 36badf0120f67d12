"""Smart OA writes: contracts and their credentials, polling, schedule versions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from hub.actors import NOBODY, Actor
from hub.http import ProviderError
from hub.http.urlsafety import UnsafeWebhookURL, check_url
from hub.identifiers import InvalidIdentifier, normalise
from hub.models import ApiToken, MeteringPoint, Organisation, Site
from hub.services import audit
from hub.services.tokens import IssuedToken, TokenSpecError, create_token, revoke_token
from smartoa import versions
from smartoa.client import Credentials, Schedule, SmartOAError
from smartoa.models import (
    MIN_POLL_INTERVAL,
    AuthScheme,
    Contract,
    ControllerAccess,
    ScheduleVersion,
    VersionSource,
    WebhookEndpoint,
    validate_contacts,
)
from smartoa.schedule import Episode

POLL_SOURCE = "smartoa"
ALREADY_KNOWN = "cette version de la journée (même date de mise à jour) est déjà enregistrée"
# What a poll may meet and survive: the poll run records it, the last good schedule stays.
POLL_ERRORS: tuple[type[Exception], ...] = (SmartOAError, ProviderError, httpx.HTTPError)


class ContractSpecError(ValueError):
    """A contract cannot be created or changed as asked; ``field`` names the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class PollResult:
    contract_id: str
    outcome: str  # "new_version", "unchanged" or "failed"
    version: ScheduleVersion | None = None
    error: str = ""


def credentials_of(contract: Contract) -> Credentials:
    return Credentials(
        account_id=contract.account_id, token=contract.api_token, scheme=contract.auth_scheme
    )


def _validate(contract: Contract, *, exclude: list[str]) -> None:
    """The model's own checks, the first failing field reported as a ``ContractSpecError``."""
    try:
        contract.full_clean(exclude=exclude)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ContractSpecError(field, "; ".join(messages)) from exc


def create_contract(
    *,
    organisation: Organisation,
    contract_id: str,
    account_id: str,
    api_token: str,
    auth_scheme: str = AuthScheme.BEARER,
    label: str = "",
    site: Site | None = None,
    metering_point: MeteringPoint | None = None,
    poll_interval: int = 300,
    enabled: bool = True,
    actor: Actor = NOBODY,
) -> Contract:
    try:
        contract_id = normalise("oa_site", contract_id)
    except InvalidIdentifier as exc:
        raise ContractSpecError("contract_id", exc.reason) from exc
    if not api_token.strip():
        raise ContractSpecError("api_token", "required")
    if poll_interval < MIN_POLL_INTERVAL:
        raise ContractSpecError(
            "poll_interval",
            _("at least %(MIN_POLL_INTERVAL)s seconds") % {"MIN_POLL_INTERVAL": MIN_POLL_INTERVAL},
        )
    contract = Contract(
        organisation=organisation,
        contract_id=contract_id,
        account_id=account_id.strip() or contract_id,
        api_token=api_token.strip(),
        auth_scheme=auth_scheme,
        label=label,
        site=site,
        metering_point=metering_point,
        poll_interval=poll_interval,
        enabled=enabled,
    )
    _validate(contract, exclude=["api_token"])
    with transaction.atomic():
        contract.save()
        audit.record(
            action="smartoa.contract.created",
            actor=actor,
            organisation=organisation,
            target=contract,
            after=_public_fields(contract),
        )
    return contract


def set_credentials(
    *,
    contract: Contract,
    account_id: str,
    api_token: str,
    auth_scheme: str,
    actor: Actor = NOBODY,
) -> None:
    """Replace the contract's Smart OA account and token (after the holder regenerated it)."""
    if not api_token.strip():
        raise ContractSpecError("api_token", "required")
    if auth_scheme not in AuthScheme.values:
        raise ContractSpecError(
            "auth_scheme", _("one of %(values)s") % {"values": AuthScheme.values}
        )
    before = _public_fields(contract)
    contract.account_id = account_id.strip() or contract.contract_id
    contract.api_token = api_token.strip()
    contract.auth_scheme = auth_scheme
    with transaction.atomic():
        contract.save(update_fields=["account_id", "api_token", "auth_scheme", "updated_at"])
        # The token itself never reaches the trail: only the fact that it changed.
        audit.record(
            action="smartoa.contract.credentials_changed",
            actor=actor,
            organisation=contract.organisation,
            target=contract,
            before=before,
            after={**_public_fields(contract), "api_token_changed": True},
        )


def save_contract(*, contract: Contract, api_token: str | None, actor: Actor = NOBODY) -> None:
    """Save a contract edited in a form; ``api_token`` None keeps the stored token."""
    created = contract.pk is None
    before = None if created else _public_fields(Contract.objects.get(pk=contract.pk))
    if api_token:
        contract.api_token = api_token.strip()
    with transaction.atomic():
        contract.save()
        audit.record(
            action="smartoa.contract.created" if created else "smartoa.contract.changed",
            actor=actor,
            organisation=contract.organisation,
            target=contract,
            before=before,
            after={**_public_fields(contract), "api_token_changed": bool(api_token)},
        )


def update_contract(
    *,
    contract: Contract,
    label: str,
    account_id: str,
    auth_scheme: str,
    api_token: str | None,
    site: Site | None,
    metering_point: MeteringPoint | None,
    poll_interval: int,
    enabled: bool,
    actor: Actor = NOBODY,
) -> Contract:
    """Change a contract's settings; ``api_token`` None or blank keeps the stored token.

    The contract id stays: it names the contract in the API, the URLs and the audit trail.
    """
    if auth_scheme not in AuthScheme.values:
        raise ContractSpecError(
            "auth_scheme", _("one of %(values)s") % {"values": AuthScheme.values}
        )
    if poll_interval < MIN_POLL_INTERVAL:
        raise ContractSpecError(
            "poll_interval",
            _("at least %(MIN_POLL_INTERVAL)s seconds") % {"MIN_POLL_INTERVAL": MIN_POLL_INTERVAL},
        )
    before = _public_fields(contract)
    token = (api_token or "").strip()
    contract.label = label.strip()
    contract.account_id = account_id.strip() or contract.contract_id
    contract.auth_scheme = auth_scheme
    contract.site = site
    contract.metering_point = metering_point
    contract.poll_interval = poll_interval
    contract.enabled = enabled
    if token:
        contract.api_token = token
    _validate(contract, exclude=["api_token", "contacts"])
    with transaction.atomic():
        contract.save()
        # The token itself never reaches the trail: only the fact that it changed.
        audit.record(
            action="smartoa.contract.changed",
            actor=actor,
            organisation=contract.organisation,
            target=contract,
            before=before,
            after={**_public_fields(contract), "api_token_changed": bool(token)},
        )
    return contract


def _public_fields(contract: Contract) -> dict[str, Any]:
    return {
        "contract_id": contract.contract_id,
        "account_id": contract.account_id,
        "auth_scheme": contract.auth_scheme,
        "enabled": contract.enabled,
        "poll_interval": contract.poll_interval,
        "label": contract.label,
        "site": contract.site_id,
        "metering_point": contract.metering_point_id,
        "contacts": list(contract.contacts),
    }


def record_schedule(
    *, contract: Contract, schedule: Schedule, fetched_at: dt.datetime
) -> tuple[ScheduleVersion, bool]:
    """Store ``schedule`` unless its (day, update date) is known; returns (version, created).

    The same write as a poll's (``smartoa.versions.store``), without a poll run or notices.
    """
    key = {
        "contract": contract,
        "application_date": schedule.application_date,
        "update_date": schedule.update_date,
    }
    try:
        with transaction.atomic():
            [stored] = versions.store(items=[versions.Incoming(contract, schedule)], now=fetched_at)
    except IntegrityError:
        # Another worker stored the same version between our check and our insert.
        return ScheduleVersion.objects.get(**key), False
    if stored.version is None:
        return ScheduleVersion.objects.get(**key), False
    return stored.version, True


def enter_schedule(
    *,
    contract: Contract,
    schedule: Schedule,
    now: dt.datetime,
    actor: Actor,
) -> ScheduleVersion:
    """Keep a schedule an operator typed or pasted from EDF OA's web portal (API unreachable).

    Stored as a version marked manual, through the same write as a poll's, audited with the
    person, then told of (notice, webhooks) like a polled one. Raises ContractSpecError when
    that version (same day, same update date) is already known.
    """
    if schedule.contract_id != contract.contract_id:
        raise ContractSpecError(
            "stops",
            _("l'identifiant %(contract_id)r n'est pas celui de ce contrat")
            % {"contract_id": schedule.contract_id},
        )
    try:
        with transaction.atomic():
            [stored] = versions.store(
                items=[
                    versions.Incoming(contract, schedule, source=VersionSource.MANUAL, actor=actor)
                ],
                now=now,
            )
            if stored.version is None:
                raise ContractSpecError("update_date", ALREADY_KNOWN)
            versions.distribute(version=stored.version, now=now)
    except IntegrityError as exc:
        raise ContractSpecError("update_date", ALREADY_KNOWN) from exc
    return stored.version


def episodes_of_version(version: ScheduleVersion) -> list[Episode]:
    return [Episode(e.start, e.end) for e in version.episodes.all()]


def claim_due_contracts(*, now: dt.datetime, limit: int = 5000) -> list[int]:
    """Ids of enabled contracts due for a poll, each moved to its next due time.

    Rows are locked with SKIP LOCKED where the database has it, so two beat-driven fan-outs
    running at once never enqueue the same contract twice. Call inside a transaction.

    A claim is a lease: a contract claimed more than ``SMARTOA_CLAIM_LEASE_SECONDS`` ago and
    not polled since (its worker died with the batch) is due again at once, rather than at the
    next poll time or when the broker gives the message back.
    """
    lease = dt.timedelta(seconds=settings.SMARTOA_CLAIM_LEASE_SECONDS)
    abandoned = Q(claimed_at__lt=now - lease) & (
        Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=F("claimed_at"))
    )
    due = (
        Contract.objects.filter(enabled=True)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now) | abandoned)
        .order_by(F("next_poll_at").asc(nulls_first=True), "pk")
    )
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True, of=("self",))
    rows = list(due.values_list("pk", "poll_interval")[:limit])
    by_interval: dict[int, list[int]] = {}
    for pk, interval in rows:
        by_interval.setdefault(interval, []).append(pk)
    for interval, pks in by_interval.items():
        Contract.objects.filter(pk__in=pks).update(
            next_poll_at=now + dt.timedelta(seconds=interval), claimed_at=now
        )
    return [pk for pk, _interval in rows]


# --- Portal actions: contacts, webhook target, controller tokens --------------------------------


def set_contacts(*, contract: Contract, contacts: list[str], actor: Actor = NOBODY) -> None:
    """Replace the addresses told by e-mail of new or changed stops."""
    cleaned = sorted({c.strip().lower() for c in contacts if c.strip()})
    try:
        validate_contacts(cleaned)
    except ValidationError as exc:
        raise ContractSpecError("contacts", "; ".join(exc.messages)) from exc
    before = list(contract.contacts)
    contract.contacts = cleaned
    with transaction.atomic():
        contract.save(update_fields=["contacts", "updated_at"])
        audit.record(
            action="smartoa.contract.contacts_changed",
            actor=actor,
            organisation=contract.organisation,
            target=contract,
            before={"contacts": before},
            after={"contacts": cleaned},
        )


def contract_webhook(*, contract: Contract) -> WebhookEndpoint | None:
    """The endpoint dedicated to this contract (listening to it alone), if any."""
    for endpoint in WebhookEndpoint.objects.filter(
        organisation_id=contract.organisation_id, contracts=contract
    ).prefetch_related("contracts"):
        if [c.pk for c in endpoint.contracts.all()] == [contract.pk]:
            return endpoint
    return None


def set_contract_webhook(
    *,
    contract: Contract,
    url: str,
    secret: str | None,
    enabled: bool = True,
    actor: Actor = NOBODY,
) -> WebhookEndpoint:
    """Create or change the contract's own webhook; ``secret`` None keeps the stored one.

    The URL is refused unless it is a public https address (``hub.http.urlsafety``).
    """
    try:
        check_url(url)
    except UnsafeWebhookURL as exc:
        raise ContractSpecError("url", exc.reason) from exc
    endpoint = contract_webhook(contract=contract)
    if endpoint is None and not secret:
        raise ContractSpecError("secret", "required")
    before = None if endpoint is None else {"url": endpoint.url, "enabled": endpoint.enabled}
    with transaction.atomic():
        if endpoint is None:
            endpoint = WebhookEndpoint(organisation_id=contract.organisation_id)
        endpoint.url = url
        endpoint.enabled = enabled
        if secret:
            endpoint.secret = secret
        endpoint.save()
        endpoint.contracts.set([contract])
        audit.record(
            action="smartoa.webhook.changed" if before else "smartoa.webhook.created",
            actor=actor,
            organisation=contract.organisation,
            target=endpoint,
            before=before,
            after={"url": url, "enabled": enabled, "secret_changed": bool(secret)},
        )
    return endpoint


def grant_controller_token(
    *,
    contract: Contract,
    name: str,
    allowed_networks: list[str],
    expires_at: dt.datetime | None = None,
    actor: Actor = NOBODY,
) -> IssuedToken:
    """A new read-only hub API token that sees this contract only, from these networks only.

    The plaintext is in the result and nowhere else. Raises TokenSpecError (hub) on a bad spec.
    """
    if not allowed_networks:
        raise TokenSpecError("allowed_networks", "required")
    with transaction.atomic():
        issued = create_token(
            organisation=contract.organisation,
            name=name,
            allowed_networks=allowed_networks,
            scopes=["read"],
            expires_at=expires_at,
            actor=actor,
        )
        access = ControllerAccess.objects.create(token=issued.token, contract=contract)
        audit.record(
            action="smartoa.controller_access.granted",
            actor=actor,
            organisation=contract.organisation,
            target=access,
            after={"token": issued.token.prefix, "contract": contract.contract_id},
        )
    return issued


def controller_tokens(*, contract: Contract) -> list[ApiToken]:
    return list(
        ApiToken.objects.filter(
            organisation_id=contract.organisation_id, smartoa_access__contract=contract
        ).order_by("revoked_at", "name")
    )


def revoke_controller_token(
    *, contract: Contract, token_pk: int, now: dt.datetime, actor: Actor = NOBODY
) -> ApiToken:
    """Revoke a token that has access to this contract; ApiToken.DoesNotExist otherwise."""
    token = ApiToken.objects.get(
        pk=token_pk, organisation_id=contract.organisation_id, smartoa_access__contract=contract
    )
    revoke_token(token=token, now=now, actor=actor)
    return token
