"""E-mail and in-portal notice of a new or changed stop, to the contract's contacts.

Goes through ``hub.services.notifications.notify``: the notice is stored for the portal and
e-mailed to the contract's contacts. Its dedupe key is the version, so polling the same version
again (another worker, a retried task) never mails twice.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from hub.clock import PARIS
from hub.models import Notification
from hub.services.notifications import notify
from smartoa.models import ScheduleVersion
from smartoa.webhooks import needs_notice

SOURCE = "smartoa"


def _local(instant: dt.datetime) -> str:
    return f"{instant.astimezone(PARIS):%d/%m/%Y %H:%M}"


def _span(episode: dict[str, str]) -> str:
    start = dt.datetime.fromisoformat(episode["start"])
    end = dt.datetime.fromisoformat(episode["end"])
    return f"{_local(start)} → {_local(end)}"


def body_of(version: ScheduleVersion) -> str:
    """The notice's text: the stops in force (Paris time) and what changed."""
    lines = [
        f"Contrat {version.contract.contract_id}, journée du {version.application_date:%d/%m/%Y}",
        f"Programme publié le {_local(version.update_date)} (heure de Paris).",
        "",
    ]
    episodes = list(version.episodes.order_by("start"))
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


def notify_contacts(*, version: ScheduleVersion, now: dt.datetime) -> Notification | None:
    """Notice of a first version with stops, or of a version whose stops changed."""
    if not needs_notice(version):
        return None
    contract = version.contract
    changed = version.diff is not None
    title = (
        f"Arrêt Smart OA modifié : {contract.contract_id} le {version.application_date:%d/%m/%Y}"
        if changed
        else f"Arrêt Smart OA : {contract.contract_id} le {version.application_date:%d/%m/%Y}"
    )
    return notify(
        organisation=contract.organisation,
        source=SOURCE,
        kind="stop-changed" if changed else "stop-published",
        title=title,
        body=body_of(version),
        severity="warning",
        dedupe_key=f"version:{version.pk}",
        link=reverse("smartoa_portal:contract", args=[contract.contract_id]),
        emails=list(contract.contacts),
        now=now,
    )
