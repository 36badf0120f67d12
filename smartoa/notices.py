"""E-mail and in-portal notices: a new or changed stop, and Smart OA refusing a contract's polls.

Both go through ``hub.services.notifications``. A stop's notice is e-mailed to the contract's
contacts; its dedupe key is the version, so polling the same version again (another worker, a
retried task) never mails twice. An access alert (401/403) is critical, so the organisation's
admins, who hold the upstream token, are mailed; it stays one open alert per contract however
many polls fail, and is resolved by the contract's next good poll.

Times are Paris wall time with their UTC offset on the days the clocks change
(``hub.clock.format_local``): on the 25-hour night 02:30 happens twice.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

from django.urls import reverse

from hub.clock import format_local
from hub.http import ProviderError
from hub.models import Notification, Severity
from hub.services.notifications import Notice, notify, notify_many, resolve
from smartoa.models import Contract, ScheduleVersion, VersionSource
from smartoa.webhooks import episodes_of, needs_notice

SOURCE = "smartoa"


def _local(instant: dt.datetime) -> str:
    return format_local(instant)


def _span(episode: dict[str, str]) -> str:
    start = dt.datetime.fromisoformat(episode["start"])
    end = dt.datetime.fromisoformat(episode["end"])
    return f"{_local(start)} → {_local(end)}"


def body_of(version: ScheduleVersion) -> str:
    """The notice's text: the stops in force (Paris time) and what changed."""
    lines = [
        f"Contrat {version.contract.contract_id}, journée du {version.application_date:%d/%m/%Y}",
        f"Programme publié le {_local(version.update_date)} (heure de Paris).",
    ]
    if version.source == VersionSource.MANUAL:
        lines.append("Saisi à la main depuis le portail Smart OA (API indisponible).")
    lines.append("")
    episodes = episodes_of(version)
    if episodes:
        lines.append("Arrêts demandés :")
        lines += [f"  • {_local(e.start)} → {_local(e.end)}" for e in episodes]
    else:
        lines.append("Aucun arrêt demandé.")
    diff = version.diff or {}
    labels = (("added", "Ajoutés"), ("removed", "Supprimés"))
    for key, label in labels:
        if diff.get(key):
            lines += ["", f"{label} :"] + [f"  • {_span(e)}" for e in diff[key]]
    if diff.get("moved"):
        lines += ["", "Déplacés :"]
        lines += [f"  • {_span(m['before'])} devient {_span(m['after'])}" for m in diff["moved"]]
    return "\n".join(lines)


# Characters reverse() leaves as they are in a path: such an id is formatted straight in.
_PLAIN_ID = re.compile(r"[A-Za-z0-9._~-]+")


def contract_links() -> Callable[[str], str]:
    """The portal link of a contract by its id: reverse() once for a batch, each id formatted in
    (an id with other characters goes through reverse() for its quoting)."""
    marker = "0"
    head, tail = reverse("smartoa_portal:contract", args=[marker]).rsplit(marker, 1)

    def link(contract_id: str) -> str:
        if _PLAIN_ID.fullmatch(contract_id):
            return f"{head}{contract_id}{tail}"
        return reverse("smartoa_portal:contract", args=[contract_id])

    return link


def stop_notice(*, version: ScheduleVersion, link: str) -> Notice:
    """The notice of a version with new or changed stops (see ``needs_notice``)."""
    contract = version.contract
    changed = version.diff is not None
    title = (
        f"Arrêt Smart OA modifié : {contract.contract_id} le {version.application_date:%d/%m/%Y}"
        if changed
        else f"Arrêt Smart OA : {contract.contract_id} le {version.application_date:%d/%m/%Y}"
    )
    return Notice(
        organisation=contract.organisation,
        source=SOURCE,
        kind="stop-changed" if changed else "stop-published",
        title=title,
        body=body_of(version),
        severity=Severity.WARNING,
        dedupe_key=f"version:{version.pk}",
        link=link,
        emails=list(contract.contacts),
    )


def notify_contacts_many(
    *, versions: Sequence[ScheduleVersion], now: dt.datetime
) -> list[Notification]:
    """The notices of the versions that need one, in one ``notify_many``."""
    link = contract_links()
    return notify_many(
        notices=[
            stop_notice(version=v, link=link(v.contract.contract_id))
            for v in versions
            if needs_notice(v)
        ],
        now=now,
    )


def notify_contacts(*, version: ScheduleVersion, now: dt.datetime) -> Notification | None:
    """Notice of a first version with stops, or of a version whose stops changed."""
    told = notify_contacts_many(versions=[version], now=now)
    return told[0] if told else None


# --- Smart OA refusing a contract's polls ------------------------------------------------------

# What an operator most likely has to do, by status (the seed: the holder declares the allowed
# IP addresses and generates the API token on EDF OA's web portal, one account per contract).
LIKELY_FIX = {
    401: (
        "Smart OA refuse le jeton de ce contrat (jeton révoqué ou régénéré ?). Le gestionnaire "
        "du contrat génère un nouveau jeton sur le portail Smart OA d'EDF OA ; un administrateur "
        "le saisit ensuite dans le hub (page du contrat, « Compte Smart OA »)."
    ),
    403: (
        "Smart OA refuse l'adresse IP du hub pour ce contrat. Le gestionnaire du contrat doit "
        "déclarer l'adresse IP publique des serveurs du hub dans la liste des IP autorisées du "
        "contrat, sur le portail Smart OA d'EDF OA."
    ),
}


def access_key(contract: Contract) -> str:
    return f"access:{contract.pk}"


def access_refused(*, contract: Contract, error: ProviderError, now: dt.datetime) -> Notification:
    """Raise (or count again) the contract's access alert: Smart OA answered 401 or 403."""
    reason = "jeton refusé" if error.status == 401 else "adresse IP refusée"
    fix = LIKELY_FIX.get(error.status, LIKELY_FIX[401])
    return notify(
        organisation=contract.organisation,
        source=SOURCE,
        kind="access-refused",
        title=f"Smart OA refuse la relève du contrat {contract.contract_id} : {reason} "
        f"(HTTP {error.status})",
        body="\n".join(
            [
                fix,
                "",
                f"Réponse de Smart OA : {error.message}",
                f"Première relève refusée : {_local(now)} (heure de Paris). Les consignes "
                "d'arrêt de ce contrat ne sont plus relevées ; la dernière programmation reste "
                "affichée. L'alerte se ferme d'elle-même à la prochaine relève réussie.",
            ]
        ),
        severity=Severity.CRITICAL,
        dedupe_key=access_key(contract),
        link=reverse("smartoa_portal:contract", args=[contract.contract_id]),
        now=now,
    )


def access_restored(*, contracts: Sequence[Contract], now: dt.datetime) -> int:
    """Resolve the open access alerts of ``contracts`` (just polled fine); one query if none."""
    by_key = {access_key(c): c for c in contracts}
    if not by_key:
        return 0
    open_keys = (
        Notification.objects.filter(
            organisation__pk__any={c.organisation_id for c in contracts},
            source=SOURCE,
            dedupe_key__any=by_key,
            resolved_at__isnull=True,
        )
        .order_by()
        .values_list("organisation_id", "dedupe_key")
    )
    closed = 0
    for organisation_id, key in open_keys:
        contract = by_key[key]
        if contract.organisation_id == organisation_id:
            resolve(organisation=contract.organisation, source=SOURCE, dedupe_key=key, now=now)
            closed += 1
    return closed
