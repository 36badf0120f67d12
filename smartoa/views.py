"""Portal pages of Smart OA: the contracts, one contract's schedules, billing and settings.

Everything is scoped by the portal's current organisation: another organisation's contract is
a 404, like a missing one. Viewers read; operators act (fetch now, contacts, load curves);
admins manage what is secret (the upstream token, the webhook secret, controller tokens).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.actors import Actor
from hub.clock import format_local, local_day_of
from hub.models import ApiToken, MeteringPoint, Role, Site
from hub.portal.access import membership_of, role_required
from hub.services.tokens import IssuedToken, TokenSpecError
from smartoa import billing, loadcurve, manual, selectors, services, tasks
from smartoa.forms import (
    ContactsForm,
    ContractForm,
    ControllerTokenForm,
    CredentialsForm,
    DayForm,
    LoadCurveForm,
    ManualScheduleForm,
    WebhookForm,
)
from smartoa.models import Contract, WebhookDelivery

STATE_COLOURS = {"normal": "#2e7d32", "stop": "#c62828", "neutralised": "#f9a825"}


def _now() -> dt.datetime:
    return timezone.now()  # one seam, so tests pin "now"


def _contract(request: HttpRequest, contract_id: str) -> Contract:
    organisation = membership_of(request).organisation
    contracts = selectors.with_last_poll(
        Contract.objects.select_related("organisation", "metering_point", "site")
    )
    # Scoped by organisation: a foreign contract answers 404, exactly like a missing one.
    return get_object_or_404(contracts, organisation=organisation, contract_id=contract_id)


def _detail_url(contract: Contract, day: dt.date | None = None) -> str:
    url = reverse("smartoa_portal:contract", args=[contract.contract_id])
    return f"{url}?day={day.isoformat()}" if day else url


@role_required(Role.VIEWER)
def contract_list(request: HttpRequest) -> HttpResponse:
    organisation = membership_of(request).organisation
    contracts = list(
        selectors.with_last_poll(
            Contract.objects.filter(organisation=organisation).select_related("metering_point")
        ).order_by("contract_id")
    )
    rows = selectors.states(contracts=contracts, now=_now())
    return render(
        request,
        "smartoa/contract_list.html",
        {"rows": rows, "can_manage": membership_of(request).allows(Role.ADMIN)},
    )


def _chart(result: billing.BillingDay) -> dict[str, Any]:
    return {
        # On the 25-hour day 02:00-02:55 come twice: the offset tells them apart.
        "labels": [format_local(s.start, "%H:%M") for s in result.steps],
        "energies": [s.energy for s in result.steps],
        "states": [s.state.value for s in result.steps],
        "colours": [STATE_COLOURS[s.state.value] for s in result.steps],
        "unit": result.unit or "",
    }


def _detail(
    request: HttpRequest, contract: Contract, *, status: int = 200, **overrides: Any
) -> HttpResponse:
    """The contract page; ``overrides`` replace forms (with their errors) or add context."""
    membership = membership_of(request)
    now = _now()
    today = local_day_of(now)
    day = overrides.pop("day", None) or today
    [state] = selectors.states(contracts=[contract], now=now)
    result = billing.bill_contract_day(contract=contract, day=day)
    webhook = services.contract_webhook(contract=contract)
    context: dict[str, Any] = {
        "contract": contract,
        "state": state,
        "now": now,
        "timelines": [
            selectors.timeline(contract=contract, day=today),
            selectors.timeline(contract=contract, day=today + dt.timedelta(days=1)),
        ],
        "history": selectors.history(contract=contract),
        "day": day,
        "day_form": DayForm(initial={"day": day}, auto_id="billing-%s"),
        "billing": result,
        "chart": _chart(result),
        "webhook": webhook,
        "deliveries": WebhookDelivery.objects.filter(version__contract=contract)
        .select_related("endpoint", "version")
        .order_by("-created_at")[:20],
        "can_act": membership.allows(Role.OPERATOR),
        "can_manage": membership.allows(Role.ADMIN),
        "contacts_form": ContactsForm(initial={"contacts": "\n".join(contract.contacts)}),
        "credentials_form": CredentialsForm(
            initial={"account_id": contract.account_id, "auth_scheme": contract.auth_scheme}
        ),
        "webhook_form": WebhookForm(
            initial={"url": webhook.url, "enabled": webhook.enabled} if webhook else None
        ),
        "token_form": ControllerTokenForm(),
        "upload_form": LoadCurveForm(),
        "manual_form": ManualScheduleForm(initial={"day": today}),
        "tokens": services.controller_tokens(contract=contract)
        if membership.allows(Role.ADMIN)
        else [],
        "upload_errors": None,
        "issued": None,
    }
    context.update(overrides)
    return render(request, "smartoa/contract_detail.html", context, status=status)


@role_required(Role.VIEWER)
def contract_detail(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = _contract(request, contract_id)
    if "day" not in request.GET:
        return _detail(request, contract)
    form = DayForm(request.GET)
    if not form.is_valid():
        return _detail(request, contract, status=400, day_form=form)
    return _detail(request, contract, day=form.cleaned_data["day"])


@require_POST
@role_required(Role.OPERATOR)
def fetch_now(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = _contract(request, contract_id)
    # Enqueued once this request's transaction is committed; the worker polls at once.
    transaction.on_commit(
        partial(tasks.poll_contract.apply_async, kwargs={"contract_pk": contract.pk})
    )
    text = _("Relève demandée à %(time)s.") % {"time": format_local(_now(), "%H:%M:%S")}
    if getattr(request, "htmx", False):
        return HttpResponse(f'<span id="fetch-status" role="status">{text}</span>')
    messages.success(request, text)
    return redirect(_detail_url(contract))


@require_POST
@role_required(Role.OPERATOR)
def set_contacts(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = ContactsForm(request.POST)
    if form.is_valid():
        try:
            services.set_contacts(
                contract=contract,
                contacts=form.cleaned_data["contacts"],
                actor=Actor.from_request(request),
            )
        except services.ContractSpecError as exc:
            form.add_error("contacts", exc.reason)
        else:
            messages.success(request, _("Contacts enregistrés."))
            return redirect(_detail_url(contract))
    return _detail(request, contract, status=400, contacts_form=form)


@require_POST
@role_required(Role.ADMIN)
def set_credentials(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = CredentialsForm(request.POST)
    if form.is_valid():
        try:
            services.set_credentials(
                contract=contract,
                account_id=form.cleaned_data["account_id"],
                api_token=form.cleaned_data["api_token"],
                auth_scheme=form.cleaned_data["auth_scheme"],
                actor=Actor.from_request(request),
            )
        except services.ContractSpecError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
        else:
            messages.success(request, _("Jeton Smart OA remplacé."))
            return redirect(_detail_url(contract))
    # Re-rendered without the token: a password input never echoes what was typed.
    return _detail(request, contract, status=400, credentials_form=form)


@require_POST
@role_required(Role.ADMIN)
def set_webhook(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            services.set_contract_webhook(
                contract=contract,
                url=form.cleaned_data["url"],
                secret=form.cleaned_data["secret"] or None,
                enabled=form.cleaned_data["enabled"],
                actor=Actor.from_request(request),
            )
        except services.ContractSpecError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
        else:
            messages.success(request, _("Webhook enregistré."))
            return redirect(_detail_url(contract))
    return _detail(request, contract, status=400, webhook_form=form)


@require_POST
@role_required(Role.ADMIN)
def create_token(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = ControllerTokenForm(request.POST)
    issued: IssuedToken | None = None
    if form.is_valid():
        try:
            issued = services.grant_controller_token(
                contract=contract,
                name=form.cleaned_data["name"].strip(),
                allowed_networks=form.cleaned_data["allowed_networks"],
                expires_at=form.expires_at(),
                actor=Actor.from_request(request),
            )
        except TokenSpecError as exc:
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.reason)
    if issued is None:
        return _detail(request, contract, status=400, token_form=form)
    # Rendered, not redirected: the plaintext is in this answer and nowhere else.
    return _detail(request, contract, issued=issued)


@require_POST
@role_required(Role.ADMIN)
def revoke_token(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = _contract(request, contract_id)
    try:
        token = services.revoke_controller_token(
            contract=contract,
            token_pk=int(request.POST.get("token", "")),
            now=_now(),
            actor=Actor.from_request(request),
        )
    except (ValueError, ApiToken.DoesNotExist):
        return HttpResponse(_("token : jeton inconnu pour ce contrat."), status=404)
    messages.success(request, _("Le jeton « %(name)s » est révoqué.") % {"name": token.name})
    return redirect(_detail_url(contract))


@require_POST
@role_required(Role.OPERATOR)
def upload_load_curve(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = _contract(request, contract_id)
    form = LoadCurveForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, contract, status=400, upload_form=form)
    if contract.metering_point is None:
        form.add_error(None, _("Ce contrat n'a pas de point de comptage de production."))
        return _detail(request, contract, status=400, upload_form=form)
    upload = form.cleaned_data["file"]
    try:
        # The size is known before reading: a huge file is refused without loading it.
        points = loadcurve.parse(upload.read(loadcurve.MAX_BYTES + 1))
    except loadcurve.LoadCurveError as exc:
        return _detail(request, contract, status=400, upload_form=form, upload_errors=exc)
    _series, written = loadcurve.store(metering_point=contract.metering_point, points=points)
    first_day = local_day_of(points[0].ts)
    messages.success(
        request,
        _("%(n)d pas de 5 minutes enregistrés pour %(point)s.")
        % {"n": written, "point": contract.metering_point.identifier},
    )
    return redirect(_detail_url(contract, first_day))


@require_POST
@role_required(Role.OPERATOR)
def enter_schedule(request: HttpRequest, contract_id: str) -> HttpResponse:
    """A day's schedule read on EDF OA's web portal, for when the API cannot be reached."""
    contract = _contract(request, contract_id)
    form = ManualScheduleForm(request.POST)
    if form.is_valid():
        now = _now()
        try:
            version = services.enter_schedule(
                contract=contract,
                schedule=form.schedule(contract_id=contract.contract_id, now=now),
                now=now,
                actor=Actor.from_request(request),
            )
        except (manual.ManualScheduleError, services.ContractSpecError) as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
        else:
            messages.success(
                request,
                _("Programme du %(day)s enregistré (saisie manuelle) et diffusé.")
                % {"day": f"{version.application_date:%d/%m/%Y}"},
            )
            return redirect(_detail_url(contract))
    return _detail(request, contract, status=400, manual_form=form)


# --- Contracts created and edited by an organisation's admin ----------------------------------


def _contract_form_page(
    request: HttpRequest, form: ContractForm, contract: Contract | None, status: int = 200
) -> HttpResponse:
    return render(
        request, "smartoa/contract_form.html", {"form": form, "contract": contract}, status=status
    )


@role_required(Role.ADMIN)
def contract_create(request: HttpRequest) -> HttpResponse:
    organisation = membership_of(request).organisation
    if request.method != "POST":
        form = ContractForm(organisation=organisation, editing=False)
        return _contract_form_page(request, form, None)
    form = ContractForm(request.POST, organisation=organisation, editing=False)
    if form.is_valid():
        data = form.cleaned_data
        try:
            contract = services.create_contract(
                organisation=organisation,
                contract_id=data["contract_id"],
                account_id=data["account_id"],
                api_token=data["api_token"],
                auth_scheme=data["auth_scheme"],
                label=data["label"],
                site=data["site"],
                metering_point=data["metering_point"],
                poll_interval=data["poll_interval"],
                enabled=data["enabled"],
                actor=Actor.from_request(request),
            )
        except services.ContractSpecError as exc:
            form.add_error(exc.field if exc.field in form.fields else "contract_id", exc.reason)
        except IntegrityError:  # the same number created meanwhile
            form.add_error("contract_id", _("Ce contrat existe déjà dans l'organisation."))
        else:
            messages.success(request, _("Contrat %(id)s créé.") % {"id": contract.contract_id})
            return redirect(_detail_url(contract))
    # Re-rendered without the token: a password input never echoes what was typed.
    return _contract_form_page(request, form, None, status=400)


@role_required(Role.ADMIN)
def contract_edit(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = _contract(request, contract_id)
    organisation = membership_of(request).organisation
    if request.method != "POST":
        initial = {
            "label": contract.label,
            "account_id": contract.account_id,
            "auth_scheme": contract.auth_scheme,
            "site": contract.site_id,
            "metering_point": contract.metering_point_id,
            "poll_interval": contract.poll_interval,
            "enabled": contract.enabled,
        }
        form = ContractForm(initial=initial, organisation=organisation, editing=True)
        return _contract_form_page(request, form, contract)
    form = ContractForm(request.POST, organisation=organisation, editing=True)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_contract(
                contract=contract,
                label=data["label"],
                account_id=data["account_id"],
                auth_scheme=data["auth_scheme"],
                api_token=data["api_token"] or None,
                site=data["site"],
                metering_point=data["metering_point"],
                poll_interval=data["poll_interval"],
                enabled=data["enabled"],
                actor=Actor.from_request(request),
            )
        except services.ContractSpecError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
        else:
            messages.success(request, _("Contrat enregistré."))
            return redirect(_detail_url(contract))
    return _contract_form_page(request, form, contract, status=400)


def site_panel(
    *, site: Site, points: Sequence[MeteringPoint], now: dt.datetime
) -> dict[str, object] | None:
    """The site view's Smart OA panel: each contract's set-point now and today's stops."""
    contracts = list(
        selectors.contracts_of_site(organisation=site.organisation, site=site, points=points)
    )
    if not contracts:
        return None
    today = local_day_of(now)
    rows = [
        (
            state,
            [
                (format_local(e.start, "%H:%M"), format_local(e.end, "%H:%M"), e.contains(now))
                for e in selectors.episodes_in_force(contract=state.contract, days=[today])
            ],
        )
        for state in selectors.states(contracts=contracts, now=now)
    ]
    return {"rows": rows, "today": today}
