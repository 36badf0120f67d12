"""The MQTT broker page: an admin's own organisation's settings, changed audited, tested live."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.test import Client

from hub import cache
from hub.models import AuditEvent, MqttBroker
from hub.mqtt import status
from hub.services.mqtt_brokers import save_broker
from hub.services.mqtt_check import check_broker
from tests.conftest import Tenant
from tests.hub.control.conftest import free_port
from tests.hub.mqtt_support import mosquitto
from tests.hub.test_portal_support import sign_in

pytestmark = pytest.mark.django_db

SECRET = "s3cret-broker-pw"


def _broker(tenant: Tenant, **fields: object) -> MqttBroker:
    password = str(fields.pop("password", ""))
    fields.setdefault("host", "127.0.0.1")
    broker = MqttBroker(organisation=tenant.organisation, **fields)
    return save_broker(broker=broker, password=password)


def _form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "enabled": "on",
        "host": "broker.example",
        "port": "1883",
        "username": "hub",
        "new_password": "",
        "topic_prefix": "hub",
        "discovery_prefix": "homeassistant",
        "min_interval_seconds": "10",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_sees_own_broker_never_another_organisations(
    client: Client, tenant: Tenant, foreign: Tenant
) -> None:
    # Rule: "Tenant scoping on every query" — one broker per organisation, its own only.
    _broker(tenant, host="mine.example")
    _broker(foreign, host="theirs.example", username="rival-user")
    sign_in(client, tenant.admin)
    page = client.get("/mqtt/").content.decode()
    assert "mine.example" in page
    assert "theirs.example" not in page and "rival-user" not in page


def test_saving_changes_only_the_own_organisations_broker(
    client: Client, tenant: Tenant, foreign: Tenant
) -> None:
    theirs = _broker(foreign, host="theirs.example", password="their-pw")
    sign_in(client, tenant.admin)
    response = client.post(
        "/mqtt/", _form(host="mine.example", organisation=foreign.organisation.pk)
    )
    assert response.status_code == 302
    mine = MqttBroker.objects.get(organisation=tenant.organisation)
    assert mine.host == "mine.example"
    theirs.refresh_from_db()
    assert theirs.host == "theirs.example" and theirs.password == "their-pw"


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_page_is_for_admins_only(client: Client, tenant: Tenant, role: str) -> None:
    # Rule: the broker page is for organisation admins (as the tokens page).
    broker = _broker(tenant, host="mine.example")
    sign_in(client, getattr(tenant, role))
    assert client.get("/mqtt/").status_code == 403
    assert client.post("/mqtt/", _form(host="evil.example")).status_code == 403
    assert client.post("/mqtt/test/").status_code == 403
    broker.refresh_from_db()
    assert broker.host == "mine.example"
    assert 'data-menu="mqtt"' not in client.get("/").content.decode()


def test_signed_out_or_without_second_factor_is_sent_to_sign_in(client: Client, tenant) -> None:
    assert client.get("/mqtt/")["Location"].startswith("/accounts/login/")
    client.force_login(tenant.admin)  # a password alone, no second factor
    assert "/accounts/second-factor/" in client.get("/mqtt/")["Location"]


def test_change_is_audited_and_blank_password_keeps_the_stored_one(
    client: Client, tenant: Tenant
) -> None:
    # Rule: "every change is an audit event"; the password is write-only, blank keeps it.
    broker = _broker(tenant, host="old.example", username="hub", password=SECRET)
    sign_in(client, tenant.admin)
    assert client.post("/mqtt/", _form(host="new.example", port="8883")).status_code == 302
    broker.refresh_from_db()
    assert (broker.host, broker.port, broker.password) == ("new.example", 8883, SECRET)
    event = AuditEvent.objects.filter(action="mqtt.broker_updated").get()
    assert event.actor == tenant.admin and event.organisation == tenant.organisation
    assert event.before["host"] == "old.example" and event.after["host"] == "new.example"
    assert event.after["password_changed"] is False
    assert SECRET not in str((event.before, event.after))


def test_new_password_and_clearing_it(client: Client, tenant: Tenant) -> None:
    broker = _broker(tenant, password=SECRET)
    sign_in(client, tenant.admin)
    client.post("/mqtt/", _form(new_password="another-pw"))
    broker.refresh_from_db()
    assert broker.password == "another-pw"
    client.post("/mqtt/", _form(clear_password="on"))
    broker.refresh_from_db()
    assert broker.password == ""
    events = AuditEvent.objects.filter(action="mqtt.broker_updated")
    assert [e.after["password_changed"] for e in events.order_by("pk")] == [True, True]
    assert "another-pw" not in str(list(events.values_list("before", "after")))


def test_first_save_creates_the_broker_audited(client: Client, tenant: Tenant) -> None:
    sign_in(client, tenant.admin)
    assert "Aucun courtier" in client.get("/mqtt/").content.decode()
    client.post("/mqtt/", _form(new_password=SECRET))
    broker = MqttBroker.objects.get(organisation=tenant.organisation)
    assert broker.password == SECRET
    assert AuditEvent.objects.filter(action="mqtt.broker_created", organisation=tenant.organisation)


def test_password_is_never_rendered(client: Client, tenant: Tenant) -> None:
    _broker(tenant, username="hub", password=SECRET)
    sign_in(client, tenant.admin)
    page = client.get("/mqtt/").content.decode()
    assert SECRET not in page
    assert 'id="mqtt-password-state">défini<' in page
    refused = client.post("/mqtt/", _form(port="0", new_password="typed-" + SECRET))
    assert SECRET not in refused.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", "0"),
        ("port", "70000"),
        ("port", "x"),
        ("host", ""),
        ("host", "mqtt://broker.example:1883"),
        ("topic_prefix", "bad prefix/#"),
        ("discovery_prefix", ""),
        ("min_interval_seconds", "-1"),
        ("ca_certificate", "-----BEGIN CERTIFICATE-----\nnot a certificate\n"),
        ("clear_password", "on"),  # with a new password at once
    ],
)
def test_bad_input_is_a_form_error_not_a_change(
    client: Client, tenant: Tenant, field: str, value: str
) -> None:
    # Rule: "Bad input → 400 with field and reason; never a 500."
    broker = _broker(tenant, host="kept.example", password=SECRET)
    sign_in(client, tenant.admin)
    response = client.post("/mqtt/", _form(**{field: value, "new_password": "other"}))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    broker.refresh_from_db()
    assert (broker.host, broker.password) == ("kept.example", SECRET)
    assert not AuditEvent.objects.filter(action="mqtt.broker_updated").exists()
    # The settings shown beside the refused form are the stored ones.
    assert "kept.example" in response.content.decode()


def test_connection_test_succeeds_against_a_real_broker(
    client: Client, tenant: Tenant, tmp_path: Path
) -> None:
    with mosquitto(tmp_path, users={"hub": SECRET}) as running:
        _broker(tenant, port=running.port, username="hub", password=SECRET)
        sign_in(client, tenant.admin)
        response = client.post("/mqtt/test/")
    assert response.status_code == 200
    assert 'data-outcome="connected"' in response.content.decode()


def test_connection_test_reports_a_wrong_password(
    client: Client, tenant: Tenant, tmp_path: Path
) -> None:
    with mosquitto(tmp_path, users={"hub": SECRET}) as running:
        _broker(tenant, port=running.port, username="hub", password="not-the-pw-42")
        sign_in(client, tenant.admin)
        response = client.post("/mqtt/test/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-outcome="credentials"' in page and "Identifiants refusés" in page
    assert "not-the-pw-42" not in page


def test_connection_test_tls_and_unreachable(tenant: Tenant, tmp_path: Path) -> None:
    with mosquitto(tmp_path, tls=True) as running:
        broker = _broker(tenant, port=running.port, tls=True, ca_certificate=running.ca_pem)
        assert check_broker(broker=broker, timeout=5).outcome == "connected"
        broker.ca_certificate = ""  # the test CA is in no trust store
        assert check_broker(broker=broker, timeout=5).outcome == "tls"
        port = running.port
    # The broker is gone: nothing listens on its port any more.
    broker.tls = False
    broker.port = port
    assert check_broker(broker=broker, timeout=5).outcome == "unreachable"


def test_connection_test_refuses_private_addresses_unless_allowed(tenant: Tenant, settings) -> None:
    # Rule (hub/http/urlsafety.py): a customer-typed target on the hub's own network is refused
    # unless WEBHOOK_ALLOW_PRIVATE.
    settings.WEBHOOK_ALLOW_PRIVATE = False
    broker = _broker(tenant, port=1883)
    check = check_broker(broker=broker, timeout=1)
    assert check.outcome == "unsafe" and "bouclage" in check.detail


def test_connection_test_without_a_broker_says_so(client: Client, tenant: Tenant) -> None:
    sign_in(client, tenant.admin)
    response = client.post("/mqtt/test/", follow=True)
    assert response.status_code == 200
    assert "Enregistrez d" in response.content.decode()


@pytest.fixture(autouse=True)
def _no_earlier_publishers() -> None:
    # Publisher states outlive a test's transaction in the shared cache, and SQLite gives the
    # next test's organisation the same id: each test starts with none.
    from django.core.cache import cache as default_cache

    default_cache.clear()


def _beat(tenant: Tenant, *, host: str, pid: int, now: float, **fields: object) -> None:
    """A process's state as a publisher writes it (``hub.mqtt.status``)."""
    value = {
        "host": host, "pid": pid, "role": "tic", "started_at": now - 3600, "updated_at": now,
        "connected": True, "since": now - 600, "last_message_at": now - 2,
        "last_message_kind": "state", "last_failure_at": None, "last_failure_reason": "",
        "last_failure_detail": "", "published": 1234, "failed": 0, "dropped": 0, **fields,
    }  # fmt: skip
    cache.heartbeat(
        status.index_key(tenant.organisation.pk), f"{host}:{pid}", json.dumps(value),
        now=now, timeout=status.TTL_SECONDS,
    )  # fmt: skip


def _publishers_section(page: str) -> str:
    return page.split('id="mqtt-publishers"', 1)[1].split("</section>", 1)[0]


def test_page_lists_own_organisations_publishers_only(
    client: Client, tenant: Tenant, foreign: Tenant
) -> None:
    # Rule: "Tenant scoping on every query": another organisation's processes never show.
    _broker(tenant, host="mine.example")
    now = time.time()
    _beat(tenant, host="reader-host", pid=4101, now=now)
    _beat(
        tenant, host="worker-host", pid=4102, now=now, role="worker", connected=False,
        last_failure_at=now - 5, last_failure_reason="credentials", failed=17, dropped=3,
    )  # fmt: skip
    _beat(foreign, host="rival-host", pid=4999, now=now, published=987654)
    sign_in(client, tenant.admin)
    section = _publishers_section(client.get("/mqtt/").content.decode())
    assert section.count('class="mqtt-publisher"') == 2
    assert "reader-host pid 4101" in section and "worker-host pid 4102" in section
    assert "lecteur TIC" in section and "worker Celery" in section
    assert "Identifiants refusés" not in section and "identifiants refusés" in section
    assert 'data-connected="0" data-reason="credentials"' in section
    assert "rival-host" not in section and "987654" not in section
    theirs = Client()
    sign_in(theirs, foreign.admin)
    section = _publishers_section(theirs.get("/mqtt/").content.decode())
    assert "rival-host" in section and "reader-host" not in section


def test_a_process_that_stopped_leaves_the_page(client: Client, tenant: Tenant) -> None:
    _broker(tenant)
    _beat(tenant, host="gone-host", pid=4201, now=time.time() - status.TTL_SECONDS - 1)
    sign_in(client, tenant.admin)
    section = _publishers_section(client.get("/mqtt/").content.decode())
    assert "gone-host" not in section and 'id="mqtt-publishers-empty"' in section


@pytest.mark.parametrize(
    ("broker", "why"),
    [
        (None, "faute de courtier"),
        ({"enabled": False}, "la publication est désactivée"),
        ({"enabled": True}, "pas de processus en train de publier"),
    ],
)
def test_nothing_to_show_says_why(
    client: Client, tenant: Tenant, broker: dict[str, object] | None, why: str
) -> None:
    if broker is not None:
        _broker(tenant, **broker)
    sign_in(client, tenant.admin)
    section = _publishers_section(client.get("/mqtt/").content.decode())
    assert 'id="mqtt-publishers-empty"' in section and why in section


def test_cache_down_the_page_says_state_unavailable(
    client: Client, tenant: Tenant, settings
) -> None:
    _broker(tenant, host="mine.example")
    sign_in(client, tenant.admin)
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "hub.cache.FailoverRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"retry_seconds": 0},
        },
    }
    response = client.get("/mqtt/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="mqtt-publishers-unavailable"' in _publishers_section(page)
    assert "mine.example" in page  # the settings are still shown
