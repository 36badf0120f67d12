"""The provider HTTP client: retries, timeouts, OAuth2 client credentials and secret-free logs.

Everything goes through ``httpx.MockTransport``; waits are recorded instead of slept.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import logging
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from httpx_auth._oauth2 import tokens as httpx_auth_tokens
from prometheus_client import REGISTRY

import hub.http.retry
from hub.http import (
    USER_AGENT,
    ClientAuthenticationError,
    ClientCredentials,
    ProviderError,
    build_client,
    clear_token_cache,
    raise_for_provider,
)

API = "https://api.provider.test"
TOKEN_URL = "https://auth.provider.test/oauth2/token"
CLIENT_SECRET = "s3cr3t-never-logged"

Handler = Callable[[httpx.Request], httpx.Response]
HubLogs = Callable[[], list[dict[str, Any]]]


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Waits between attempts, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(hub.http.retry, "pause", recorded.append)
    return recorded


@pytest.fixture(autouse=True)
def _isolated_token_cache() -> Iterator[None]:
    # httpx-auth caches tokens process-wide; no test may see another's token.
    clear_token_cache()
    yield
    clear_token_cache()


@pytest.fixture
def hub_logs(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> HubLogs:
    """The ``hub.http`` records as dicts, whatever the project's logging configuration does."""
    hub_logger = logging.getLogger("hub.http")
    monkeypatch.setattr(hub_logger, "propagate", True)
    monkeypatch.setattr(hub_logger, "disabled", False)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="hub.http")
    return lambda: [
        vars(r) | {"message": r.getMessage()} for r in caplog.records if r.name == "hub.http"
    ]


def sequence(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with ``responses`` in turn (raising the exceptions), and its calls."""
    calls: list[httpx.Request] = []
    remaining = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, calls


def client_for(handler: Handler, **options: Any) -> httpx.Client:
    return build_client(
        base_url=API, provider="acme", transport=httpx.MockTransport(handler), **options
    )


# --- retries ------------------------------------------------------------------------------------


def test_503_is_retried_until_success(sleeps: list[float]) -> None:
    handler, calls = sequence(
        httpx.Response(503), httpx.Response(503), httpx.Response(200, json={"ok": 1})
    )

    response = client_for(handler).get("/meters")

    assert response.status_code == 200
    assert response.json() == {"ok": 1}
    assert len(calls) == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_each_retryable_status_is_retried(status: int) -> None:
    handler, calls = sequence(httpx.Response(status), httpx.Response(200))

    assert client_for(handler).get("/meters").status_code == 200
    assert len(calls) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 501])
def test_other_errors_are_not_retried(status: int, sleeps: list[float]) -> None:
    handler, calls = sequence(httpx.Response(status), httpx.Response(200))

    assert client_for(handler).get("/meters").status_code == status
    assert len(calls) == 1
    assert sleeps == []


def test_gives_up_after_the_configured_retries_with_the_last_answer() -> None:
    handler, calls = sequence(httpx.Response(503, text="down for maintenance"))

    response = client_for(handler, retries=2).get("/meters")

    assert len(calls) == 3  # the first attempt and two retries
    assert response.status_code == 503
    with pytest.raises(ProviderError) as raised:
        raise_for_provider(response)
    assert (raised.value.provider, raised.value.status) == ("acme", 503)
    assert "down for maintenance" in raised.value.message


def test_gives_up_on_repeated_connection_errors_by_raising_the_last_one() -> None:
    handler, calls = sequence(httpx.ConnectError("refused"))

    with pytest.raises(httpx.ConnectError):
        client_for(handler, retries=2).get("/meters")
    assert len(calls) == 3


def test_no_retries_when_disabled() -> None:
    handler, calls = sequence(httpx.Response(503), httpx.Response(200))

    assert client_for(handler, retries=0).get("/meters").status_code == 503
    assert len(calls) == 1


def test_429_waits_as_long_as_retry_after_says(sleeps: list[float]) -> None:
    handler, _ = sequence(httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200))

    assert client_for(handler).get("/meters").status_code == 200
    assert sleeps == [2.0]


def _http_date(seconds_from_now: float) -> str:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds_from_now)
    return email.utils.format_datetime(moment, usegmt=True)


@pytest.mark.parametrize("retry_after", ["3600", _http_date(3600)], ids=["seconds", "http-date"])
def test_retry_after_is_capped_by_max_backoff(retry_after: str, sleeps: list[float]) -> None:
    handler, _ = sequence(
        httpx.Response(503, headers={"Retry-After": retry_after}), httpx.Response(200)
    )

    assert client_for(handler, max_backoff=7).get("/meters").status_code == 200
    assert sleeps == [7.0]


def test_retry_after_http_date_is_honoured(sleeps: list[float]) -> None:
    handler, _ = sequence(
        httpx.Response(503, headers={"Retry-After": _http_date(20)}), httpx.Response(200)
    )

    client_for(handler).get("/meters")

    assert len(sleeps) == 1
    assert 15 < sleeps[0] <= 20


def test_backoff_grows_exponentially_within_jitter_bounds(sleeps: list[float]) -> None:
    rounds = 30
    for _ in range(rounds):
        handler, _calls = sequence(httpx.Response(503))
        client_for(handler, retries=4, backoff_factor=1, max_backoff=100).get("/meters")

    waits = [sleeps[i : i + 4] for i in range(0, len(sleeps), 4)]
    assert len(waits) == rounds
    for per_request in waits:
        for retry_number, wait in enumerate(per_request, start=1):
            nominal = 2.0**retry_number  # 2, 4, 8, 16 s
            assert nominal / 2 <= wait <= nominal
    # Jitter: the waits actually vary from one request to the next.
    assert len({per_request[0] for per_request in waits}) > 1


def test_backoff_is_capped_by_max_backoff(sleeps: list[float]) -> None:
    handler, _ = sequence(httpx.Response(503))

    client_for(handler, retries=5, backoff_factor=1, max_backoff=5).get("/meters")

    assert len(sleeps) == 5
    assert max(sleeps) <= 5
    assert sleeps[-1] >= 2.5  # nominal 32 s, jittered to at least 16 s, then capped


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow"),
        httpx.ReadError("reset"),
        httpx.ReadTimeout("slow"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_transport_errors_are_retried_for_get(error: Exception) -> None:
    handler, calls = sequence(error, httpx.Response(200))

    assert client_for(handler).get("/meters").status_code == 200
    assert len(calls) == 2


def test_post_is_not_retried_on_503(sleeps: list[float]) -> None:
    handler, calls = sequence(httpx.Response(503), httpx.Response(201))

    response = client_for(handler).post("/switches", json={"pce": "GI000000"})

    assert response.status_code == 503
    assert len(calls) == 1
    assert sleeps == []


@pytest.mark.parametrize("error", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow")])
def test_post_is_retried_when_it_never_left(error: Exception, sleeps: list[float]) -> None:
    handler, calls = sequence(error, httpx.Response(201))

    response = client_for(handler).post("/switches", json={"pce": "GI000000"})

    assert response.status_code == 201
    assert len(calls) == 2
    assert calls[1].content == b'{"pce":"GI000000"}'
    assert len(sleeps) == 1


def test_post_retries_on_connection_errors_are_bounded() -> None:
    handler, calls = sequence(httpx.ConnectError("refused"))

    with pytest.raises(httpx.ConnectError):
        client_for(handler, retries=2).post("/switches")
    assert len(calls) == 3


@pytest.mark.parametrize("error", [httpx.ReadError("reset"), httpx.ReadTimeout("slow")])
def test_post_is_not_retried_once_it_may_have_been_received(error: Exception) -> None:
    handler, calls = sequence(error, httpx.Response(201))

    with pytest.raises(type(error)):
        client_for(handler).post("/switches")
    assert len(calls) == 1


# --- client configuration -----------------------------------------------------------------------


def test_timeouts_are_configured() -> None:
    default = client_for(sequence(httpx.Response(200))[0])
    custom = client_for(sequence(httpx.Response(200))[0], connect_timeout=2, read_timeout=90)

    assert (default.timeout.connect, default.timeout.read) == (5, 30)
    assert (custom.timeout.connect, custom.timeout.read, custom.timeout.write) == (2, 90, 90)


def test_timeouts_reach_the_transport() -> None:
    handler, calls = sequence(httpx.Response(200))

    client_for(handler, connect_timeout=2, read_timeout=90).get("/meters")

    assert calls[0].extensions["timeout"]["connect"] == 2
    assert calls[0].extensions["timeout"]["read"] == 90


def test_default_user_agent_base_url_and_extra_headers() -> None:
    handler, calls = sequence(httpx.Response(200))

    client_for(handler, headers={"X-Channel": "adict"}).get("/meters", params={"page": 2})

    assert USER_AGENT.startswith("supplier-data-hub/")
    assert calls[0].headers["User-Agent"] == USER_AGENT
    assert calls[0].headers["X-Channel"] == "adict"
    assert str(calls[0].url) == f"{API}/meters?page=2"


def test_raise_for_provider_returns_successful_responses() -> None:
    handler, _ = sequence(httpx.Response(200, json={"ok": True}))
    response = client_for(handler).get("/meters")

    assert raise_for_provider(response) is response


# --- OAuth2 client credentials ------------------------------------------------------------------


class FakeProvider:
    """A token endpoint and an API that accepts only the latest token it issued."""

    def __init__(self, *, expires_in: int = 3600, prefix: str = "tok") -> None:
        self.expires_in = expires_in
        self.prefix = prefix
        self.token_requests: list[httpx.Request] = []
        self.api_requests: list[httpx.Request] = []
        # Read at call time: a replayed request is the same object with its header replaced.
        self.api_authorizations: list[str] = []
        self.revoked: set[str] = set()

    @property
    def issued(self) -> str:
        return f"{self.prefix}-{len(self.token_requests)}"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            self.token_requests.append(request)
            body = {
                "access_token": self.issued,
                "token_type": "Bearer",
                "expires_in": self.expires_in,
            }
            return httpx.Response(200, json=body)
        self.api_requests.append(request)
        self.api_authorizations.append(request.headers.get("Authorization", ""))
        token = self.api_authorizations[-1].removeprefix("Bearer ")
        if token in self.revoked or token != self.issued:
            return httpx.Response(401)
        return httpx.Response(200, json={"token": token})

    def tokens_seen_by_api(self) -> list[str]:
        return self.api_authorizations


def credentials(client_id: str = "hub-client", **options: Any) -> ClientCredentials:
    return ClientCredentials(TOKEN_URL, client_id, CLIENT_SECRET, **options)


def test_token_is_fetched_once_and_reused() -> None:
    provider = FakeProvider()
    client = client_for(provider, auth=credentials(scope="/adict/v2"))

    for _ in range(3):
        assert client.get("/meters").status_code == 200

    assert len(provider.token_requests) == 1
    assert provider.tokens_seen_by_api() == ["Bearer tok-1"] * 3
    token_request = provider.token_requests[0]
    assert token_request.method == "POST"
    form = parse_qs(token_request.content.decode())
    # client_secret_basic unless the provider says otherwise (RFC 6749 §2.3.1: servers MUST
    # support it).
    assert form == {"grant_type": ["client_credentials"], "scope": ["/adict/v2"]}
    basic = base64.b64encode(f"hub-client:{CLIENT_SECRET}".encode()).decode()
    assert token_request.headers["Authorization"] == f"Basic {basic}"
    assert token_request.headers["User-Agent"] == USER_AGENT


def test_post_method_sends_the_credentials_in_the_form_body_only() -> None:
    """GRDF's token endpoint (reference grdf-adict.md §1.2): "POST form-urlencoded:
    grant_type=client_credentials, client_id, client_secret, scope"."""
    provider = FakeProvider()
    client = client_for(provider, auth=credentials(scope="/adict/v2", auth_method="post"))

    assert client.get("/meters").status_code == 200

    [token_request] = provider.token_requests
    form = parse_qs(token_request.content.decode())
    assert form == {
        "grant_type": ["client_credentials"],
        "scope": ["/adict/v2"],
        "client_id": ["hub-client"],
        "client_secret": [CLIENT_SECRET],
    }
    assert "Authorization" not in token_request.headers


def test_an_unknown_auth_method_is_refused() -> None:
    with pytest.raises(ValueError, match="auth_method"):
        credentials(auth_method="header")


@pytest.mark.parametrize(("method", "other"), [("post", "basic"), ("basic", "post")])
def test_invalid_client_names_the_method_used_and_the_setting(method: str, other: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client"})

    auth = credentials(auth_method=method, auth_method_setting="ACME_TOKEN_AUTH_METHOD")
    with pytest.raises(ClientAuthenticationError) as caught:
        client_for(handler, auth=auth).get("/meters")

    assert caught.value.auth_method == method
    assert f"client_secret_{method}" in str(caught.value)
    assert f"ACME_TOKEN_AUTH_METHOD={other}" in str(caught.value)


def test_other_token_errors_keep_httpx_auth_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "invalid_scope"})

    with pytest.raises(httpx.HTTPError, match="invalid_scope") as caught:
        client_for(handler, auth=credentials()).get("/meters")
    assert not isinstance(caught.value, ClientAuthenticationError)


def test_token_is_renewed_when_within_early_expiry() -> None:
    # A 30 s token with a 60 s early expiry is already due for renewal on its next use.
    provider = FakeProvider(expires_in=30)
    client = client_for(provider, auth=credentials(early_expiry=60))

    client.get("/meters")
    client.get("/meters")

    assert len(provider.token_requests) == 2
    assert provider.tokens_seen_by_api() == ["Bearer tok-1", "Bearer tok-2"]


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Controls the clock httpx-auth's token cache reads (``datetime.datetime.now``)."""
    state = Clock()

    class FrozenDatetime(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return state.now.astimezone(tz)

    fake_module = SimpleNamespace(
        datetime=FrozenDatetime, timezone=dt.timezone, timedelta=dt.timedelta
    )
    monkeypatch.setattr(httpx_auth_tokens, "datetime", fake_module)
    return state


def test_token_is_reused_until_early_expiry_then_renewed(clock: Clock) -> None:
    provider = FakeProvider(expires_in=3600)
    client = client_for(provider, auth=credentials(early_expiry=60))

    client.get("/meters")
    clock.now += dt.timedelta(seconds=3530)  # 70 s left: still usable
    client.get("/meters")
    assert len(provider.token_requests) == 1

    clock.now += dt.timedelta(seconds=20)  # 50 s left: inside the early-expiry window
    client.get("/meters")
    assert len(provider.token_requests) == 2
    assert provider.tokens_seen_by_api() == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


def test_401_renews_the_token_once_and_replays_the_request() -> None:
    provider = FakeProvider()
    client = client_for(provider, auth=credentials())
    client.get("/meters")
    provider.revoked.add("tok-1")  # e.g. rotated on the provider's side before its expiry

    response = client.post("/switches", json={"pce": "GI000000"})

    assert response.status_code == 200
    assert len(provider.token_requests) == 2
    assert provider.tokens_seen_by_api() == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]
    assert provider.api_requests[-1].content == b'{"pce":"GI000000"}'
    assert client.get("/meters").status_code == 200
    assert len(provider.token_requests) == 2  # the renewed token is cached


def test_persistent_401_renews_only_once() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if str(request.url) == TOKEN_URL:
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 3600})
        return httpx.Response(401)

    response = client_for(handler, auth=credentials()).get("/meters")

    assert response.status_code == 401
    assert calls == [TOKEN_URL, f"{API}/meters", TOKEN_URL, f"{API}/meters"]


def test_token_endpoint_rejection_raises() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client"})

    with pytest.raises(httpx.HTTPError, match="invalid_client"):
        client_for(handler, auth=credentials()).get("/meters")


def test_token_request_is_retried_like_any_post_that_never_left() -> None:
    provider = FakeProvider()
    failed_once: list[bool] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL and not failed_once:
            failed_once.append(True)
            raise httpx.ConnectError("refused")
        return provider(request)

    assert client_for(handler, auth=credentials()).get("/meters").status_code == 200
    assert len(provider.token_requests) == 1


def test_clients_with_different_credentials_do_not_share_tokens() -> None:
    first, second = FakeProvider(prefix="first"), FakeProvider(prefix="second")
    first_client = client_for(first, auth=credentials("client-a"))
    second_client = client_for(second, auth=credentials("client-b"))

    for _ in range(2):
        first_client.get("/meters")
        second_client.get("/meters")

    assert first.tokens_seen_by_api() == ["Bearer first-1"] * 2
    assert second.tokens_seen_by_api() == ["Bearer second-1"] * 2


def test_clients_with_the_same_credentials_share_one_token() -> None:
    provider = FakeProvider()

    client_for(provider, auth=credentials()).get("/meters")
    client_for(provider, auth=credentials()).get("/meters")

    assert len(provider.token_requests) == 1


def test_client_secret_is_not_in_the_repr_of_credentials() -> None:
    assert CLIENT_SECRET not in repr(credentials())


def test_an_explicit_zero_early_expiry_is_kept(clock: Clock) -> None:
    provider = FakeProvider(expires_in=3600)
    client = client_for(provider, auth=credentials(early_expiry=0))

    client.get("/meters")
    clock.now += dt.timedelta(seconds=3590)  # 10 s left: inside httpx-auth's default 30 s
    client.get("/meters")

    assert len(provider.token_requests) == 1


# --- logs ---------------------------------------------------------------------------------------


def test_each_attempt_is_logged_with_its_fields(hub_logs: HubLogs) -> None:
    handler, _ = sequence(httpx.Response(503), httpx.Response(200))

    client_for(handler).get("/meters", params={"page": 2})

    records = hub_logs()
    assert [(r["attempt"], r["status"], r["levelno"]) for r in records] == [
        (1, 503, logging.WARNING),
        (2, 200, logging.INFO),
    ]
    first = records[0]
    assert (first["provider"], first["method"]) == ("acme", "GET")
    assert first["url"] == f"{API}/meters?page=2"
    assert isinstance(first["elapsed_ms"], float)
    assert "provider=acme" in first["message"]
    assert "attempt=1" in first["message"]


def test_a_routine_success_is_a_debug_line_the_end_of_a_retry_information(
    hub_logs: HubLogs,
) -> None:
    """A poll of 10,000 contracts makes 10,000 calls: their successes are debug lines (shown
    with HTTP_CLIENT_LOG_LEVEL=DEBUG). A failure stays a warning, and the success that ends
    a retry is information, so that a log read at the default level says how it ended."""
    handler, _ = sequence(httpx.Response(200), httpx.Response(502), httpx.Response(200))
    client = client_for(handler)
    client.get("/meters")
    client.get("/meters")
    assert [(r["attempt"], r["status"], r["levelno"]) for r in hub_logs()] == [
        (1, 200, logging.DEBUG),
        (1, 502, logging.WARNING),
        (2, 200, logging.INFO),
    ]


def _calls(provider: str, outcome: str) -> float:
    sample = REGISTRY.get_sample_value(
        "hub_http_client_requests_total", {"provider": provider, "outcome": outcome}
    )
    return sample or 0.0


def _timed(provider: str) -> float:
    sample = REGISTRY.get_sample_value(
        "hub_http_client_request_duration_seconds_count", {"provider": provider}
    )
    return sample or 0.0


def test_each_attempt_is_counted_by_provider_and_outcome_and_timed() -> None:
    """Every attempt, whatever its log level: the status, or the transport error's name."""
    provider = "acme-metrics"
    before = {o: _calls(provider, o) for o in ("200", "503", "ConnectError")}
    timed = _timed(provider)
    handler, _ = sequence(
        httpx.Response(503), httpx.Response(200), httpx.ConnectError("refused"), httpx.Response(200)
    )
    client = build_client(base_url=API, provider=provider, transport=httpx.MockTransport(handler))
    client.get("/meters")
    client.get("/meters")
    assert {o: _calls(provider, o) - before[o] for o in before} == {
        "200": 2,
        "503": 1,
        "ConnectError": 1,
    }
    assert _timed(provider) - timed == 4


def test_transport_errors_are_logged(hub_logs: HubLogs) -> None:
    handler, _ = sequence(httpx.ConnectError("refused"), httpx.Response(200))

    client_for(handler).get("/meters")

    first = hub_logs()[0]
    assert (first["status"], first["error"], first["levelno"]) == (
        None,
        "ConnectError",
        logging.WARNING,
    )


@pytest.mark.parametrize("method", ["basic", "post"])
def test_no_secret_reaches_any_log(
    caplog: pytest.LogCaptureFixture, hub_logs: HubLogs, method: str
) -> None:
    provider = FakeProvider()
    client = client_for(provider, auth=credentials(auth_method=method))
    client.get("/meters")
    provider.revoked.add("tok-1")
    client.get("/meters")  # 401, renewal, replay

    assert len(hub_logs()) == 5  # token, API, API (401), token, API again
    # Every logger, not only ours: httpx, httpx-auth and httpx-retries log too.
    everything = caplog.text + "".join(str(vars(record)) for record in caplog.records)
    for secret in (CLIENT_SECRET, "tok-1", "tok-2", "Bearer", "Basic"):
        assert secret not in everything


def test_credentials_in_the_query_string_are_redacted(hub_logs: HubLogs) -> None:
    handler, calls = sequence(httpx.Response(200))
    params = {"access_token": "qs-tok", "client_secret": "qs-sec", "password": "qs-pw", "page": "2"}

    client_for(handler).get("/meters", params=params)

    assert "qs-tok" in str(calls[0].url)  # the request itself is untouched
    record = hub_logs()[0]
    assert record["url"] == f"{API}/meters?access_token=***&client_secret=***&password=***&page=2"
    for secret in ("qs-tok", "qs-sec", "qs-pw"):
        assert secret not in str(record)


def test_user_info_in_the_url_is_not_logged(hub_logs: HubLogs) -> None:
    handler, _ = sequence(httpx.Response(200))
    client = build_client(
        base_url="https://user:pa55word@api.provider.test",
        provider="acme",
        transport=httpx.MockTransport(handler),
    )

    client.get("/meters")

    record = hub_logs()[0]
    assert record["url"] == f"{API}/meters"
    assert "pa55word" not in str(record)


def test_provider_error_names_the_provider() -> None:
    handler, _ = sequence(httpx.Response(404, text="no such meter"))
    response = client_for(handler).get("/meters/42")

    with pytest.raises(ProviderError, match=r"acme answered HTTP 404: Not Found no such meter"):
        raise_for_provider(response)


def _cookie_setting_handler(seen: list[str | None]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Cookie"))
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, json={})

    return handler


def test_a_client_keeps_the_cookies_an_answer_sets_by_default() -> None:
    seen: list[str | None] = []
    with build_client(
        base_url=API, provider="test", transport=httpx.MockTransport(_cookie_setting_handler(seen))
    ) as client:
        client.get("/first")
        client.get("/second")
    assert seen == [None, "session=abc"]


def test_a_client_told_to_keep_no_cookies_never_sends_one() -> None:
    seen: list[str | None] = []
    with build_client(
        base_url=API,
        provider="test",
        transport=httpx.MockTransport(_cookie_setting_handler(seen)),
        keep_cookies=False,
    ) as client:
        client.get("/first")
        client.cookies.set("session", "forced")
        client.cookies.update({"other": "value"})
        client.get("/second")
        assert not client.cookies
    assert seen == [None, None]
