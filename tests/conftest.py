"""Fixtures shared by the whole suite: two organisations (one foreign), people, tokens, clients."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core import signals
from django.db import close_old_connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import translation
from rest_framework.test import APIClient

from hub.models import Membership, MeteringPoint, Organisation, Role, User
from hub.services.tokens import IssuedToken, create_token

PASSWORD = "correct horse battery staple"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave nothing in Redis: the run's keys (some expire only after 30 days) go now."""
    from django.conf import settings

    if settings.REDIS_URL:
        from tests.cache import delete_prefixed

        delete_prefixed(settings.REDIS_URL, settings.TEST_REDIS_PREFIX)


def require(condition: bool, reason: str) -> None:
    """Skip for lack of a service locally; CI sets HUB_REQUIRE_SERVICES and fails instead."""
    if condition:
        return
    if os.environ.get("HUB_REQUIRE_SERVICES"):
        pytest.fail(f"required by CI: {reason}")
    pytest.skip(reason)


@dataclass
class Tenant:
    organisation: Organisation
    admin: User
    operator: User
    viewer: User
    point: MeteringPoint


def make_tenant(slug: str) -> Tenant:
    organisation = Organisation.objects.create(slug=slug, name=slug.title())
    people = {}
    for role in Role:
        user = User.objects.create_user(f"{role.value}@{slug}.example", PASSWORD)
        Membership.objects.create(user=user, organisation=organisation, role=role)
        people[role] = user
    point = MeteringPoint.objects.create(
        organisation=organisation, kind="elec_prm", identifier=f"{abs(hash(slug)) % 10**14:014d}"
    )
    return Tenant(
        organisation, people[Role.ADMIN], people[Role.OPERATOR], people[Role.VIEWER], point
    )


# Connections opened by threads other than the main one (a reader's writer, a poll's fetchers, a
# test's own thread). On PostgreSQL each is a session until closed; a thread that ends with one
# open leaves it to the garbage collector (CONN_MAX_AGE keeps a healthy one through
# close_old_connections), and sessions then linger on the server, the test database's among them.
_thread_connections: list[tuple[weakref.ref[BaseDatabaseWrapper], threading.Thread]] = []


@pytest.fixture(autouse=True, scope="session")
def _record_thread_connections() -> Iterator[None]:
    connect = BaseDatabaseWrapper.connect

    def recording(self: BaseDatabaseWrapper) -> None:
        connect(self)
        if threading.current_thread() is not threading.main_thread():
            _thread_connections.append((weakref.ref(self), threading.current_thread()))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseDatabaseWrapper, "connect", recording)
        yield


@pytest.fixture(autouse=True)
def _no_connection_left_by_an_ended_thread() -> Iterator[None]:
    """A thread that ended during the test with its PostgreSQL connection open fails the test
    (the connection is closed then, so the next tests do not inherit the session)."""
    yield
    left = []
    for entry in list(_thread_connections):
        wrapper, thread = entry[0](), entry[1]
        if wrapper is None or wrapper.connection is None:
            _thread_connections.remove(entry)
        elif not thread.is_alive():
            _thread_connections.remove(entry)
            if wrapper.vendor == "postgresql":  # SQLite's in-memory test database ignores close
                # The wrapper refuses another thread; its psycopg connection does not.
                wrapper.connection.close()
                left.append(thread.name)
    if left:
        pytest.fail(
            f"thread(s) {left} ended with their database connection open: close it in the "
            "thread (django.db.connections.close_all()) before it ends"
        )


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test starts in the hub's default language. LocaleMiddleware activates the language
    of each request in the calling thread and leaves it there, so a test client's English
    request would otherwise make the next test's messages English."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def tenant(db: None) -> Tenant:
    return make_tenant("acme")


@pytest.fixture
def foreign(db: None) -> Tenant:
    return make_tenant("rival")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def token_client(tenant: Tenant) -> APIClient:
    issued = create_token(organisation=tenant.organisation, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    return client


@pytest.fixture
def issued(tenant: Tenant) -> IssuedToken:
    return create_token(organisation=tenant.organisation, name="reader")


@pytest.fixture
def remembering_client(issued: IssuedToken) -> APIClient:
    """A client of ``issued`` whose token this process remembers (``tokens.remembered``): its
    first call recorded the token's use (an UPDATE, an audit event for a new address)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    assert client.get("/api/v1/ping").status_code == 200
    return client


@pytest.fixture
def viewer_client(tenant: Tenant) -> APIClient:
    client = APIClient()
    client.force_authenticate(tenant.viewer)
    return client


@pytest.fixture
def operator_client(tenant: Tenant) -> APIClient:
    client = APIClient()
    client.force_authenticate(tenant.operator)
    return client


@pytest.fixture
def in_process_wsgi() -> Iterator[None]:
    """Lets tests call the WSGI application directly (httpx WSGITransport, schemathesis).

    The WSGI handler closes "old" connections around each request, which inside a test's
    transaction would close it; Django's own test client unhooks the same signals.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def broker_down() -> Iterator[None]:
    """The Celery broker unreachable (nothing listens there): enqueuing fails as in an outage."""
    from hub.celery import app

    def reset_pools() -> None:
        # Forget the app's pools, not close them: kombu keeps producer pools per broker URL
        # in a registry shared by the process, and the real one is wanted back afterwards.
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    reset_pools()
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        yield
    finally:
        reset_pools()
        app.conf.broker_url = previous
