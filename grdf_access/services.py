"""Access rights: declare, modify, terminate, revoke, and follow their state at GRDF.

Every change of a right is an audit event (``grdf.right.*``). A right is created locally first
(state "À déclarer") and then declared; GRDF's answer sets its id and state. GRDF's state
strings are normalised on the way in (accents and case vary between GRDF's documents,
reference §1.6).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from grdf_access import alerts, consent
from grdf_access import client as adict
from grdf_access.adict_gateway import AdictGateway, GatewayError, owns_credential
from grdf_access.models import (
    FINAL_STATES,
    TYPE_FIELDS,
    AccessRight,
    DataType,
    FetchBackoff,
    Pce,
    ProofStatus,
    RightState,
    Role,
    Subscription,
    SubscriptionKind,
    SubscriptionState,
)
from grdf_access.specs import RightSpec
from hub.actors import NOBODY, Actor
from hub.clock import local_day_of
from hub.models import MeteringPoint, MeteringPointKind, Organisation
from hub.services import audit

GRDF = Actor.system("GRDF")  # what GRDF itself changed, seen by a sync


class RightError(ValueError):
    """A right cannot change as asked; ``field`` and ``reason`` say why (reason in French)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().lower()


_STATES = {
    "active": RightState.ACTIVE,
    "actif": RightState.ACTIVE,
    "a valider": RightState.TO_VALIDATE,
    "a reverifier": RightState.TO_RECHECK,
    "refusee": RightState.REFUSED,
    "refuse": RightState.REFUSED,
    "revoquee": RightState.REVOKED,
    "revoque": RightState.REVOKED,
    "obsolete": RightState.OBSOLETE,
    "resiliee": RightState.TERMINATED,
    "resilie": RightState.TERMINATED,
}
_PROOFS = {_plain(s.value): s for s in ProofStatus if s.value}


def state_of(remote: str) -> RightState:
    try:
        return _STATES[_plain(remote)]
    except KeyError:
        raise GatewayError(_("état de droit inconnu : %(remote)r") % {"remote": remote}) from None


def proof_status_of(remote: str) -> str:
    return _PROOFS.get(_plain(remote), ProofStatus.NONE) if remote else ProofStatus.NONE


def snapshot(right: AccessRight) -> dict[str, Any]:
    """The audited fields of a right."""
    return {
        "pce": right.pce.identifier,
        "grdf_id": right.grdf_id,
        "role": right.role,
        "state": right.state,
        "consent_start": right.consent_start,
        "consent_end": right.consent_end,
        "data_start": right.data_start,
        "data_end": right.data_end,
        "types": right.granted_types,
        "holder": right.holder_label,
        "postcode": right.postcode,
        "proof_status": right.proof_status,
        "proof_deadline": right.proof_deadline,
    }


# The one mapping between the hub's data types (the right's flags) and GRDF's.
WIRE_TYPES = {
    DataType.PUBLISHED: adict.DataType.PUBLISHED,
    DataType.INFORMATIVE_DAILY: adict.DataType.INFORMATIVE,
    DataType.INFORMATIVE_HOURLY: adict.DataType.INFORMATIVE_HOURLY,
    DataType.CONTRACTUAL: adict.DataType.CONTRACTUAL,
    DataType.TECHNICAL: adict.DataType.TECHNICAL,
}
HUB_TYPES = {wire: hub for hub, wire in WIRE_TYPES.items()}


def wire_types(right: AccessRight) -> frozenset[adict.DataType]:
    return frozenset(WIRE_TYPES[DataType(t)] for t in right.granted_types)


def hub_types(remote: adict.AccessRight) -> frozenset[str]:
    return frozenset(HUB_TYPES[t] for t in remote.data_types if t in HUB_TYPES)


def reason_of(remote: adict.AccessRight) -> str:
    """Why GRDF refused, revoked or made the right obsolete, when it says."""
    return remote.refusal_source or remote.revocation_source or remote.obsolete_source


def declaration_of(right: AccessRight) -> adict.AccessDeclaration:
    """The right as GRDF's client declares it: the one mapping from our right to GRDF's."""
    return adict.AccessDeclaration(
        pce=right.pce.identifier,
        role=adict.Role(right.role),
        postcode=right.postcode,
        consent_start=right.consent_start,
        consent_end=right.consent_end,
        data_types=wire_types(right),
        data_start=right.data_start,
        data_end=right.data_end,
        holder_name=right.holder_name,
        holder_company=right.holder_company,
        holder_email=right.holder_email,
        holder_mobile=right.holder_phone,
    )


def modification_of(right: AccessRight) -> adict.AccessModification:
    return adict.AccessModification(
        consent_end=right.consent_end,
        data_start=right.data_start,
        data_end=right.data_end,
        data_types=wire_types(right),
    )


@transaction.atomic
def ensure_pce(
    *,
    organisation: Organisation,
    identifier: str,
    site_label: str = "",
    alias: str = "",
    client_name: str = "",
    postcode: str = "",
    holder: bool | None = None,
) -> Pce:
    """The organisation's PCE (and its metering point), created if new; labels filled if blank."""
    point, _ = MeteringPoint.objects.get_or_create(
        organisation=organisation,
        kind=MeteringPointKind.GAS_PCE,
        identifier=identifier,
        defaults={"label": alias or site_label},
    )
    pce, created = Pce.objects.get_or_create(
        metering_point=point,
        defaults={
            "organisation": organisation,
            "site_label": site_label,
            "alias": alias,
            "client_name": client_name,
            "postcode": postcode,
            "holder": bool(holder),
        },
    )
    if created:
        audit.record(
            action="grdf.pce.created",
            actor=NOBODY,
            organisation=organisation,
            target=pce,
            after={
                "pce": identifier,
                "site_label": site_label,
                "alias": alias,
                "client_name": client_name,
                "holder": bool(holder),
            },
        )
    else:
        changed = []
        for name, value in (
            ("site_label", site_label),
            ("alias", alias),
            ("client_name", client_name),
            ("postcode", postcode),
        ):
            if value and value != getattr(pce, name):
                setattr(pce, name, value)
                changed.append(name)
        if holder is not None and pce.holder != holder:
            pce.holder = holder
            changed.append("holder")
        if changed:
            pce.save(update_fields=changed)
    return pce


def _new_right(*, organisation: Organisation, spec: RightSpec) -> AccessRight:
    pce = ensure_pce(
        organisation=organisation,
        identifier=spec.pce,
        site_label=spec.site_label,
        alias=spec.alias,
        client_name=spec.client_name,
        postcode=spec.postcode,
        holder=spec.holder,
    )
    if AccessRight.objects.filter(pce=pce).exclude(state__in=FINAL_STATES).exists():
        raise RightError(
            "pce", _("un droit d'accès en cours existe déjà pour %(pce)s") % {"pce": spec.pce}
        )
    right = AccessRight(
        organisation=organisation,
        pce=pce,
        role=spec.role,
        holder_name=spec.holder_name,
        holder_company=spec.holder_company,
        holder_email=spec.holder_email,
        holder_phone=spec.holder_phone,
        postcode=spec.postcode,
        consent_start=spec.consent_start,
        consent_end=spec.consent_end,
        data_start=spec.data_start,
        data_end=spec.data_end,
        state=RightState.DRAFT,
        **{TYPE_FIELDS[t]: t in spec.types for t in TYPE_FIELDS},
    )
    right.save()
    return right


def create_rights(
    *,
    organisation: Organisation,
    specs: Sequence[RightSpec],
    now: dt.datetime,
    actor: Actor = NOBODY,
) -> list[AccessRight]:
    """Create local rights (state "À déclarer") for every spec, all or none."""
    with transaction.atomic():
        rights = []
        for spec in specs:
            right = _new_right(organisation=organisation, spec=spec)
            audit.record(
                action="grdf.right.created",
                actor=actor,
                organisation=organisation,
                target=right,
                after=snapshot(right),
                at=now,
            )
            rights.append(right)
    return rights


def send_declaration(
    *,
    right: AccessRight,
    gateway: AdictGateway,
    now: dt.datetime,
    actor: Actor = NOBODY,
) -> AccessRight:
    """Declare a local right to GRDF; a refusal leaves it "Rejetée" with GRDF's reason."""
    if right.state != RightState.DRAFT:
        raise RightError("state", _("seul un droit à déclarer peut être déclaré"))
    before = snapshot(right)
    try:
        remote = gateway.declare(declaration=declaration_of(right))
    except GatewayError as exc:
        right.state = RightState.DECLARATION_FAILED
        right.state_reason = exc.reason[:300]
        right.state_changed_at = now
        with transaction.atomic():
            right.save(update_fields=["state", "state_reason", "state_changed_at", "updated_at"])
            audit.record(
                action="grdf.right.declaration_failed",
                actor=actor,
                organisation=right.organisation,
                target=right,
                before=before,
                after={**snapshot(right), "reason": exc.reason},
                at=now,
            )
        return right
    right.grdf_id = remote.right_id
    _apply_remote(right, remote, now=now)
    right.last_synced_at = now
    with transaction.atomic():
        right.save()
        audit.record(
            action="grdf.right.declared",
            actor=actor,
            organisation=right.organisation,
            target=right,
            before=before,
            after=snapshot(right),
            at=now,
        )
    return right


def declare_rights(
    *,
    organisation: Organisation,
    specs: Sequence[RightSpec],
    gateway: AdictGateway,
    now: dt.datetime,
    actor: Actor = NOBODY,
) -> list[AccessRight]:
    rights = create_rights(organisation=organisation, specs=specs, now=now, actor=actor)
    return [send_declaration(right=r, gateway=gateway, now=now, actor=actor) for r in rights]


@dataclass(frozen=True)
class RightChanges:
    consent_end: dt.date | None = None
    data_start: dt.date | None = None
    data_end: dt.date | None = None
    types: frozenset[str] | None = None
    holder_email: str | None = None


def modify_right(
    *,
    right: AccessRight,
    changes: RightChanges,
    gateway: AdictGateway,
    now: dt.datetime,
    today: dt.date,
    actor: Actor = NOBODY,
) -> AccessRight:
    """Change the consent end, the data range or the types, at GRDF then here."""
    if right.state in FINAL_STATES or right.state == RightState.DRAFT:
        raise RightError(
            "state",
            _("un droit %(value)s ne se modifie pas") % {"value": right.get_state_display()},
        )
    before = snapshot(right)
    consent_end = changes.consent_end or right.consent_end
    data_start = changes.data_start or right.data_start
    data_end = changes.data_end or right.data_end
    if consent_end < today:
        raise RightError("fin_consentement", _("le consentement ne peut finir dans le passé"))
    if data_end > consent_end:
        raise RightError("fin_donnees", _("après la fin du consentement"))
    if data_end < data_start:
        raise RightError("fin_donnees", _("avant le début de la plage de données"))
    right.consent_end, right.data_start, right.data_end = consent_end, data_start, data_end
    if changes.types is not None:
        # What the role has by default stays part of the right (seed 000's table).
        types = changes.types | consent.default_types(holder=right.role == Role.HOLDER)
        for data_type, name in TYPE_FIELDS.items():
            setattr(right, name, data_type in types)
    if changes.holder_email is not None:
        right.holder_email = changes.holder_email
    try:
        remote = gateway.modify(grdf_id=right.grdf_id, modification=modification_of(right))
    except GatewayError as exc:
        raise RightError("grdf", exc.reason) from exc
    _apply_remote(right, remote, now=now)
    right.last_synced_at = now
    with transaction.atomic():
        right.save()
        audit.record(
            action="grdf.right.modified",
            actor=actor,
            organisation=right.organisation,
            target=right,
            before=before,
            after=snapshot(right),
            at=now,
        )
    return right


def terminate_right(
    *,
    right: AccessRight,
    gateway: AdictGateway,
    now: dt.datetime,
    today: dt.date,
    actor: Actor = NOBODY,
) -> AccessRight:
    """End the right today at the supplier's initiative (résiliation)."""
    return _end_right(
        right=right,
        gateway=gateway,
        now=now,
        today=today,
        state=RightState.TERMINATED,
        action="grdf.right.terminated",
        actor=actor,
    )


def revoke_right(
    *,
    right: AccessRight,
    gateway: AdictGateway,
    now: dt.datetime,
    today: dt.date,
    actor: Actor = NOBODY,
) -> AccessRight:
    """Revoke the right (the customer withdrew consent): nothing is fetched or shown after."""
    return _end_right(
        right=right,
        gateway=gateway,
        now=now,
        today=today,
        state=RightState.REVOKED,
        action="grdf.right.revoked",
        actor=actor,
    )


def _end_right(
    *,
    right: AccessRight,
    gateway: AdictGateway,
    now: dt.datetime,
    today: dt.date,
    state: RightState,
    action: str,
    actor: Actor,
) -> AccessRight:
    if right.state in FINAL_STATES:
        raise RightError(
            "state", _("le droit est déjà %(value)s") % {"value": right.get_state_display().lower()}
        )
    before = snapshot(right)
    if right.grdf_id:
        try:
            if state == RightState.REVOKED:
                gateway.revoke(grdf_id=right.grdf_id)
            else:
                gateway.terminate(grdf_id=right.grdf_id)
        except GatewayError as exc:
            raise RightError("grdf", exc.reason) from exc
    right.state = state
    right.state_changed_at = now
    # The consent ends today at the latest: the gate then refuses any later request.
    right.consent_end = min(right.consent_end, today)
    right.data_end = min(right.data_end, right.consent_end)
    right.data_start = min(right.data_start, right.data_end)
    with transaction.atomic():
        right.save()
        audit.record(
            action=action,
            actor=actor,
            organisation=right.organisation,
            target=right,
            before=before,
            after=snapshot(right),
            at=now,
        )
    return right


def _apply_remote(right: AccessRight, remote: adict.AccessRight, *, now: dt.datetime) -> bool:
    """Copy GRDF's view of a right onto ours; returns whether the state changed."""
    state = state_of(str(remote.state))
    changed = state != right.state
    if changed:
        right.state = state
        right.state_changed_at = now
        right.state_reason = reason_of(remote)[:300]
    right.proof_status = proof_status_of(_proof_status_text(remote))
    right.proof_deadline = remote.proof_deadline
    if remote.parcours:
        right.journey = remote.parcours
    return changed


def _proof_status_text(remote: adict.AccessRight) -> str:
    return str(remote.proof_status) if remote.proof_status else ""


@dataclass
class RightsSyncReport:
    seen: int = 0
    changed: int = 0
    unknown_at_grdf: int = 0
    imported: int = 0
    not_imported: int = 0  # listed at GRDF, but for a role or without dates the hub cannot hold


def _imported_right(
    *, organisation: Organisation, remote: adict.AccessRight, now: dt.datetime
) -> AccessRight | None:
    """A right GRDF lists for this credential that the hub did not declare, stored as external.

    Its dates, range, types and state are GRDF's; a role the hub does not model (injection)
    or a right without consent dates is left out (None).
    """
    if remote.role not in Role.values or not remote.consent_start or not remote.consent_end:
        return None
    if remote.consent_end < remote.consent_start:
        return None
    if AccessRight.objects.filter(grdf_id=remote.right_id).exists():
        return None  # already another organisation's: never moved across tenants
    state = state_of(str(remote.state))
    data_start = remote.data_start or remote.consent_start
    data_end = min(remote.data_end or data_start, remote.consent_end)
    if remote.data_start is None or remote.data_end is None or data_end < data_start:
        # No usable data range: only undated data may be read under this right.
        data_start = data_end = remote.consent_start
        types = hub_types(remote) & consent.UNDATED_TYPES
    else:
        types = hub_types(remote)
    pce = ensure_pce(
        organisation=organisation,
        identifier=remote.pce,
        client_name=remote.holder_company or remote.holder_name,
        postcode=remote.postcode,
    )
    with transaction.atomic():
        right = AccessRight.objects.create(
            organisation=organisation,
            pce=pce,
            grdf_id=remote.right_id,
            external=True,
            role=remote.role,
            holder_name=remote.holder_name[:200],
            holder_company=remote.holder_company[:200],
            holder_email=remote.holder_email[:254],
            holder_phone=remote.holder_mobile[:20],
            postcode=(remote.postcode or pce.postcode)[:5],
            consent_start=remote.consent_start,
            consent_end=remote.consent_end,
            data_start=data_start,
            data_end=data_end,
            state=state,
            state_reason=reason_of(remote)[:300],
            state_changed_at=now,
            proof_status=proof_status_of(_proof_status_text(remote)),
            proof_deadline=remote.proof_deadline,
            journey=remote.parcours[:20],
            last_synced_at=now,
            **{TYPE_FIELDS[t]: t in types for t in TYPE_FIELDS},
        )
        audit.record(
            action="grdf.right.imported",
            actor=GRDF,
            organisation=organisation,
            target=right,
            after={**snapshot(right), "external": True},
            at=now,
        )
    return right


def sync_rights(
    *,
    organisation: Organisation,
    gateway: AdictGateway,
    now: dt.datetime,
    pces: Iterable[str] = (),
    import_external: bool | None = None,
) -> RightsSyncReport:
    """Read every right's state at GRDF and record the changes (one audit event each).

    Rights GRDF lists that the hub did not declare (GRDF's portal, another tool on the same
    credential) are imported as external, with their state, when the credential is the
    organisation's (``adict_gateway.owns_credential``; ``import_external`` overrides), so
    that the rights table is the whole truth.
    """
    if import_external is None:
        import_external = owns_credential(organisation)
    wanted = list(pces)
    rights = AccessRight.objects.filter(organisation=organisation).exclude(grdf_id="")
    if wanted:
        rights = rights.filter(pce__metering_point__identifier__in=wanted)
    by_id = {r.grdf_id: r for r in rights.select_related("pce__metering_point")}
    report = RightsSyncReport()
    ended_now: list[AccessRight] = []
    if not by_id and not import_external:
        return report
    remote_rights = gateway.list_rights(pces=wanted)
    for remote in remote_rights:
        right = by_id.get(remote.right_id)
        if right is None:
            if import_external:
                made = _imported_right(organisation=organisation, remote=remote, now=now)
                if made is None:
                    report.not_imported += 1
                else:
                    report.imported += 1
                    by_id[made.grdf_id] = made
                    report.seen += 1
            continue
        report.seen += 1
        before = snapshot(right)
        state_changed = _apply_remote(right, remote, now=now)
        if state_changed and right.state in alerts.ENDED_KINDS:
            ended_now.append(right)
        right.last_synced_at = now
        with transaction.atomic():
            right.save()
            if before != snapshot(right):
                report.changed += 1
                # What GRDF refused under the old right may be allowed now: ask again.
                FetchBackoff.objects.filter(pce_id=right.pce_id).delete()
                audit.record(
                    action="grdf.right.state_changed" if state_changed else "grdf.right.updated",
                    actor=GRDF,
                    organisation=organisation,
                    target=right,
                    before=before,
                    after={**snapshot(right), "reason": reason_of(remote)},
                    at=now,
                )
    report.unknown_at_grdf = len(by_id) - report.seen
    alerts.announce_ended(ended_now, organisation=organisation, now=now)
    alerts.refresh(organisation=organisation, now=now, today=local_day_of(now))
    return report


# -- TJDC / PPH subscriptions (RSF, provisional at GRDF) ---------------------------------------

# A subscription sends data of a type: the consent must cover it (seed 000, "WS abonnement").
SUBSCRIPTION_TYPES = {
    SubscriptionKind.TJDC: DataType.INFORMATIVE_DAILY,
    SubscriptionKind.PPH: DataType.INFORMATIVE_HOURLY,
}


def check_subscription(
    *, pce: Pce, kind: str, start: dt.date, end: dt.date | None, today: dt.date
) -> None:
    """Raise ``RightError`` unless the subscription may be asked: a known kind, ordered dates
    within the consent's dates, the type it sends granted, none of its kind already open."""
    if kind not in SubscriptionKind.values:
        raise RightError("kind", _("une de %(values)s") % {"values": SubscriptionKind.values})
    if end is not None and end <= start:
        raise RightError("end", _("la fin doit suivre le début"))
    decision = consent.decide_any(
        rights=pce.rights.all(), data_type=SUBSCRIPTION_TYPES[SubscriptionKind(kind)], today=today
    )
    if not decision.allowed:
        raise RightError(
            "kind", _("abonnement hors consentement : %(reason)s") % {"reason": decision.reason}
        )
    assert decision.right is not None
    if end is not None and end > decision.right.consent_end + dt.timedelta(days=1):
        raise RightError(
            "end",
            _("après la fin du consentement (%(consent_end)s)")
            % {"consent_end": format(decision.right.consent_end, "%d/%m/%Y")},
        )
    if start < decision.right.consent_start:
        raise RightError(
            "start",
            _("avant le début du consentement (%(consent_start)s)")
            % {"consent_start": format(decision.right.consent_start, "%d/%m/%Y")},
        )
    if (
        Subscription.objects.filter(pce=pce, kind=kind)
        .exclude(state=SubscriptionState.CANCELLED)
        .exists()
    ):
        raise RightError(
            "kind", _("un abonnement %(kind)s est déjà ouvert pour ce PCE") % {"kind": kind}
        )


def subscribe(
    *,
    pce: Pce,
    kind: str,
    start: dt.date,
    end: dt.date | None,
    gateway: AdictGateway,
    now: dt.datetime,
    today: dt.date,
    actor: Actor = NOBODY,
) -> Subscription:
    check_subscription(pce=pce, kind=kind, start=start, end=end, today=today)
    try:
        grdf_id, _state = gateway.subscribe(pce=pce.identifier, kind=kind, start=start, end=end)
    except GatewayError as exc:
        raise RightError("grdf", exc.reason) from exc
    with transaction.atomic():
        made = Subscription.objects.create(
            organisation=pce.organisation,
            pce=pce,
            kind=kind,
            state=SubscriptionState.ACTIVE,
            start=start,
            end=end,
            grdf_id=grdf_id,
        )
        audit.record(
            action="grdf.subscription.created",
            actor=actor,
            organisation=pce.organisation,
            target=made,
            after={"pce": pce.identifier, "kind": kind, "start": start, "end": end},
            at=now,
        )
    return made


def cancel_subscription(
    *,
    subscription: Subscription,
    gateway: AdictGateway,
    now: dt.datetime,
    today: dt.date,
    actor: Actor = NOBODY,
) -> Subscription:
    if subscription.state == SubscriptionState.CANCELLED:
        raise RightError("state", _("l'abonnement est déjà résilié"))
    try:
        gateway.cancel_subscription(grdf_id=subscription.grdf_id)
    except GatewayError as exc:
        raise RightError("grdf", exc.reason) from exc
    before = {"state": subscription.state, "end": subscription.end}
    subscription.state = SubscriptionState.CANCELLED
    subscription.end = today
    with transaction.atomic():
        subscription.save(update_fields=["state", "end", "updated_at"])
        audit.record(
            action="grdf.subscription.cancelled",
            actor=actor,
            organisation=subscription.organisation,
            target=subscription,
            before=before,
            after={"state": subscription.state, "end": subscription.end},
            at=now,
        )
    return subscription
