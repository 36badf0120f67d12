"""The organisation's MQTT broker (Home Assistant): its settings, their change, a connection test.
Admins only."""

from __future__ import annotations

import copy
import time

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hub.actors import Actor
from hub.cache import CacheUnavailable
from hub.models import MqttBroker, Organisation, Role
from hub.mqtt import status as publisher_status
from hub.portal.access import membership_of, role_required
from hub.portal.forms import MqttBrokerForm
from hub.services.mqtt_brokers import save_broker
from hub.services.mqtt_check import BrokerCheck, check_broker

# Short: the test runs inside the request.
CHECK_TIMEOUT_SECONDS = 5.0

OUTCOMES = {
    "connected": gettext_lazy("Connexion réussie : le courtier a accepté la connexion."),
    "credentials": gettext_lazy(
        "Identifiants refusés par le courtier (utilisateur ou mot de passe)."
    ),
    "refused": gettext_lazy("Connexion refusée par le courtier."),
    "tls": gettext_lazy("Erreur TLS : certificat du courtier non reconnu ou chiffrement refusé."),
    "unreachable": gettext_lazy("Courtier injoignable : hôte introuvable ou port fermé."),
    "timeout": gettext_lazy("Le courtier n'a pas répondu à temps."),
    "unsafe": gettext_lazy("Adresse refusée : le hub ne se connecte pas à son propre réseau."),
}


# What the publishing processes report (hub.mqtt.status): their roles, message kinds, and why a
# connection or a message failed.
ROLES = {
    "tic": gettext_lazy("lecteur TIC"),
    "worker": gettext_lazy("worker Celery"),
    "web": gettext_lazy("serveur web"),
}
KINDS = {
    "state": gettext_lazy("état"),
    "event": gettext_lazy("événement"),
    "discovery": gettext_lazy("découverte"),
}
REASONS = {
    "credentials": gettext_lazy("identifiants refusés"),
    "refused": gettext_lazy("connexion refusée"),
    "tls": gettext_lazy("erreur TLS"),
    "unreachable": gettext_lazy("courtier injoignable"),
    "disconnected": gettext_lazy("connexion perdue"),
    "not_connected": gettext_lazy("pas encore connecté"),
    "publish": gettext_lazy("message refusé par le client MQTT"),
    "queue_full": gettext_lazy("file d'attente pleine, message abandonné"),
}


def _publishers(organisation: Organisation) -> list[dict[str, object]] | None:
    """The organisation's publishing processes as the page shows them; None when the shared
    cache does not answer (the publishers keep publishing, their state is just unknown)."""
    try:
        states = publisher_status.read(organisation.pk, now=time.time())
    except CacheUnavailable:
        return None
    return [
        {
            "state": state,
            "role": ROLES.get(state.role, state.role),
            "kind": KINDS.get(state.last_message_kind, state.last_message_kind),
            "reason": REASONS.get(state.last_failure_reason, state.last_failure_reason),
        }
        for state in states
    ]


def _stored(organisation: Organisation) -> MqttBroker | None:
    return MqttBroker.objects.filter(organisation=organisation).first()


def _page(
    request: HttpRequest,
    *,
    broker: MqttBroker | None,
    form: MqttBrokerForm,
    check: BrokerCheck | None = None,
    status: int = 200,
) -> HttpResponse:
    organisation = membership_of(request).organisation
    return render(
        request,
        "portal/mqtt_broker.html",
        {
            "broker": broker,
            "form": form,
            "check": check,
            "check_message": OUTCOMES.get(check.outcome, "") if check else "",
            "publishers": _publishers(organisation),
            "status_ttl_minutes": max(1, round(publisher_status.TTL_SECONDS / 60)),
        },
        status=status,
    )


@role_required(Role.ADMIN)
def mqtt_broker(request: HttpRequest) -> HttpResponse:
    organisation = membership_of(request).organisation
    broker = _stored(organisation)
    # The form works on a copy: a refused form must not change the settings shown beside it.
    instance = copy.copy(broker) if broker else MqttBroker(organisation=organisation)
    form = MqttBrokerForm(request.POST or None, instance=instance)
    if request.method == "POST":
        if not form.is_valid():
            return _page(request, broker=broker, form=form, status=400)
        changed = form.save(commit=False)
        changed.organisation = organisation
        save_broker(broker=changed, password=form.password(), actor=Actor.from_request(request))
        messages.success(request, _("Les réglages du courtier MQTT sont enregistrés."))
        return redirect("portal:mqtt_broker")
    return _page(request, broker=broker, form=form)


@require_POST
@role_required(Role.ADMIN)
def mqtt_broker_test(request: HttpRequest) -> HttpResponse:
    organisation = membership_of(request).organisation
    broker = _stored(organisation)
    if broker is None:
        messages.error(request, _("Enregistrez d'abord un courtier."))
        return redirect("portal:mqtt_broker")
    form = MqttBrokerForm(instance=copy.copy(broker))
    check = check_broker(broker=broker, timeout=CHECK_TIMEOUT_SECONDS)
    return _page(request, broker=broker, form=form, check=check)
