"""Access-right lifecycle alerts: dashboard, e-mail (``hub.services.notifications``), webhooks.

Each alert is a condition on a right, opened once (its ``dedupe_key``) and resolved when the
condition ends:

* the right was refused, revoked by the customer or made obsolete at GRDF (reference §1.6
  states "Refusée", "Révoquée", "Obsolète"): until the PCE has an Active right again;
* GRDF opened a security control ("Preuve en attente", deadline ``date_limite_transmission_preuve``,
  §1.6): the control with its deadline, then a reminder 7 days and another 1 day before it,
  until the proof status leaves "Preuve en attente";
* the consent of an Active right ends within 30 days: until it is extended or over.

The state changes seen by ``services.sync_rights`` open the first kind; ``refresh`` (run after
every rights sync) opens the others and resolves what has ended. An organisation with an
``AlertWebhook`` also receives each new alert there (``grdf_access.webhooks``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from grdf_access import webhooks
from grdf_access.models import FINAL_STATES, AccessRight, ProofStatus, RightState
from hub.models import Membership, Notification, Organisation, Role, Severity
from hub.services.notifications import notify, resolve

SOURCE = "grdf"
ENDED_KINDS = {
    RightState.REFUSED: "right_refused",
    RightState.REVOKED: "right_revoked",
    RightState.OBSOLETE: "right_obsolete",
}
PROOF_KIND = "proof_requested"
PROOF_REMINDER_KIND = "proof_deadline"
CONSENT_KIND = "consent_ending"
KINDS = frozenset({*ENDED_KINDS.values(), PROOF_KIND, PROOF_REMINDER_KIND, CONSENT_KIND})
REMINDER_DAYS = (7, 1)
CONSENT_NOTICE_DAYS = 30


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str
    title: str
    body: str
    severity: str
    right: AccessRight


def _recipients(organisation: Organisation) -> list[str]:
    """Those who act on rights: the organisation's operators and admins."""
    return sorted(
        Membership.objects.filter(
            organisation=organisation,
            role__in=(Role.OPERATOR, Role.ADMIN),
            user__is_active=True,
        ).values_list("user__email", flat=True)
    )


def _link(right: AccessRight) -> str:
    return f"/grdf/droits/{right.pk}/"


def ended(right: AccessRight) -> Alert | None:
    """The alert of a right GRDF refused, revoked or made obsolete (None for other states)."""
    kind = ENDED_KINDS.get(RightState(right.state))
    if kind is None:
        return None
    pce = right.pce.identifier
    what = {
        RightState.REFUSED: "refusé",
        RightState.REVOKED: "révoqué par le client",
        RightState.OBSOLETE: "devenu obsolète",
    }[RightState(right.state)]
    reason = f"\nMotif indiqué par GRDF : {right.state_reason}" if right.state_reason else ""
    return Alert(
        key=f"right:{right.pk}:{kind}",
        kind=kind,
        title=f"GRDF : droit d'accès {what} pour le PCE {pce}",
        body=(
            f"Le droit d'accès aux données du PCE {pce} ({right.holder_label}) est {what}. "
            f"Aucune donnée n'est plus demandée ni affichée pour lui.{reason}"
        ),
        severity=Severity.WARNING,
        right=right,
    )


def _open_conditions(rights: Iterable[AccessRight], *, today: dt.date) -> list[Alert]:
    alerts: list[Alert] = []
    for right in rights:
        pce = right.pce.identifier
        if right.proof_status == ProofStatus.AWAITED and right.state not in FINAL_STATES:
            deadline = right.proof_deadline
            when = f" avant le {deadline:%d/%m/%Y}" if deadline else ""
            alerts.append(
                Alert(
                    key=f"right:{right.pk}:{PROOF_KIND}",
                    kind=PROOF_KIND,
                    title=f"GRDF : contrôle de sécurité ouvert pour le PCE {pce}",
                    body=(
                        f"GRDF demande les preuves du consentement du droit d'accès au PCE "
                        f"{pce} ({right.holder_label}){when}. Déposez-les depuis la page du "
                        "droit (3 fichiers de 4 Mo au plus)."
                    ),
                    severity=Severity.WARNING,
                    right=right,
                )
            )
            left = (deadline - today).days if deadline else None
            for days in REMINDER_DAYS:
                if left is not None and left <= days:
                    alerts.append(
                        Alert(
                            key=f"right:{right.pk}:{PROOF_REMINDER_KIND}:{days}",
                            kind=PROOF_REMINDER_KIND,
                            title=(
                                f"GRDF : preuves attendues dans {max(left, 0)} jour(s) "
                                f"pour le PCE {pce}"
                            ),
                            body=(
                                f"La date limite de transmission des preuves du droit d'accès "
                                f"au PCE {pce} est le {deadline:%d/%m/%Y}."
                            ),
                            severity=Severity.CRITICAL if days == 1 else Severity.WARNING,
                            right=right,
                        )
                    )
        if (
            right.state == RightState.ACTIVE
            and 0 <= (right.consent_end - today).days <= CONSENT_NOTICE_DAYS
        ):
            alerts.append(
                Alert(
                    key=f"right:{right.pk}:{CONSENT_KIND}",
                    kind=CONSENT_KIND,
                    title=(
                        f"GRDF : le consentement du PCE {pce} prend fin le "
                        f"{right.consent_end:%d/%m/%Y}"
                    ),
                    body=(
                        f"Le consentement du droit d'accès au PCE {pce} ({right.holder_label}) "
                        f"prend fin le {right.consent_end:%d/%m/%Y}. Sans nouveau consentement, "
                        "plus aucune donnée ne sera demandée ni affichée après cette date."
                    ),
                    severity=Severity.INFO,
                    right=right,
                )
            )
    return alerts


def raise_alert(alert: Alert, *, now: dt.datetime, emails: list[str]) -> None:
    notification = notify(
        organisation=alert.right.organisation,
        source=SOURCE,
        kind=alert.kind,
        title=alert.title,
        body=alert.body,
        severity=alert.severity,
        dedupe_key=alert.key,
        link=_link(alert.right),
        emails=emails,
        now=now,
    )
    webhooks.queue(notification=notification, pce=alert.right.pce.identifier, now=now)


def announce_ended(
    rights: Iterable[AccessRight], *, organisation: Organisation, now: dt.datetime
) -> int:
    """Alerts for rights GRDF just refused, revoked or made obsolete."""
    alerts = [a for a in (ended(r) for r in rights) if a is not None]
    if alerts:
        emails = _recipients(organisation)
        for alert in alerts:
            raise_alert(alert, now=now, emails=emails)
    return len(alerts)


def refresh(*, organisation: Organisation, now: dt.datetime, today: dt.date) -> None:
    """Open the alerts whose condition holds, resolve those whose condition has ended."""
    watched = (
        AccessRight.objects.filter(organisation=organisation)
        .filter(_watched(today))
        .select_related("pce__metering_point", "organisation")
    )
    holding = _open_conditions(watched, today=today)
    wanted = {a.key for a in holding}
    opened = Notification.objects.filter(
        organisation=organisation, source=SOURCE, kind__in=KINDS, resolved_at__isnull=True
    )
    open_keys = set(opened.values_list("dedupe_key", flat=True))
    fresh = [a for a in holding if a.key not in open_keys]
    if fresh:
        emails = _recipients(organisation)
        for alert in fresh:
            raise_alert(alert, now=now, emails=emails)
    active_pces = set(
        AccessRight.objects.filter(organisation=organisation, state=RightState.ACTIVE).values_list(
            "pce_id", flat=True
        )
    )
    ended_rights = dict(
        AccessRight.objects.filter(
            organisation=organisation, state__in=list(ENDED_KINDS)
        ).values_list("pk", "pce_id")
    )
    for key, kind in opened.values_list("dedupe_key", "kind"):
        if kind in ENDED_KINDS.values():
            pk = _right_pk(key)
            # Over once the PCE has an Active right again (or the right is gone).
            if pk not in ended_rights or ended_rights[pk] in active_pces:
                resolve(organisation=organisation, source=SOURCE, dedupe_key=key, now=now)
        elif key not in wanted:
            resolve(organisation=organisation, source=SOURCE, dedupe_key=key, now=now)


def _watched(today: dt.date) -> Q:
    """Proofs awaited, or an Active consent near its end: the rights with open conditions."""
    return Q(proof_status=ProofStatus.AWAITED) | Q(
        state=RightState.ACTIVE,
        consent_end__gte=today,
        consent_end__lte=today + dt.timedelta(days=CONSENT_NOTICE_DAYS),
    )


def _right_pk(key: str) -> int | None:
    parts = key.split(":")
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return None
