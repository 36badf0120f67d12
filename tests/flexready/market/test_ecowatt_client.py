"""Parsing Ecowatt v5 answers (unordered days, DST days, pas by value) and the client's calls."""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from typing import Any

import httpx
import pytest

from flexready.market.client.ecowatt import (
    EcowattClient,
    EcowattRateLimited,
    EcowattResponseError,
    parse_signals,
)

from .conftest import paris


def day(jour: str, levels: list[int], *, dvalue: int | None = None) -> dict[str, object]:
    return {
        "GenerationFichier": "2026-03-27T00:00:00+01:00",
        "jour": jour,
        "dvalue": max(levels) if dvalue is None else dvalue,
        "message": "Pas d'alerte.",
        "values": [{"pas": pas, "hvalue": level} for pas, level in enumerate(levels)],
    }


def body(*days: dict[str, object]) -> str:
    return json.dumps({"signals": list(days)})


def test_unordered_days_are_matched_by_date() -> None:
    forecast = parse_signals(
        body(
            day("2026-01-17T00:00:00+01:00", [1] * 24),
            day("2026-01-15T00:00:00+01:00", [0] * 6 + [1] * 18),
            day("2026-01-18T00:00:00+01:00", [1] * 8 + [2] * 2 + [1] * 14),
            day("2026-01-16T00:00:00+01:00", [1] * 18 + [3] * 2 + [1] * 4),
        )
    )
    assert [d.day for d in forecast.days] == [dt.date(2026, 1, d) for d in (15, 16, 17, 18)]
    assert forecast.day(dt.date(2026, 1, 16)).level == 3  # type: ignore[union-attr]
    assert forecast.day(dt.date(2026, 1, 18)).hour(8).level == 2  # type: ignore[union-attr]
    assert forecast.day(dt.date(2026, 1, 15)).hour(0).level == 0  # type: ignore[union-attr]


def test_jour_is_read_in_its_own_offset_not_in_utc() -> None:
    # Midnight in Paris is 23:00 UTC the day before: the day is the 15th.
    forecast = parse_signals(body(day("2026-01-15T00:00:00+01:00", [1] * 24)))
    assert forecast.days[0].day == dt.date(2026, 1, 15)
    assert forecast.days[0].hours[0].start == dt.datetime(2026, 1, 14, 23, tzinfo=dt.UTC)


def test_hours_are_matched_by_pas_value_not_position() -> None:
    levels = [1] * 24
    levels[19] = 3
    signal = day("2026-01-15T00:00:00+01:00", levels)
    random.Random(4).shuffle(signal["values"])  # type: ignore[arg-type]
    [parsed] = parse_signals(body(signal)).days
    assert parsed.hour(19).level == 3  # type: ignore[union-attr]
    assert parsed.hour(19).start == paris(2026, 1, 15, 19)  # type: ignore[union-attr]
    assert [h.pas for h in parsed.hours] == list(range(24))


def test_march_change_day_has_23_hours_in_elapsed_time() -> None:
    [parsed] = parse_signals(body(day("2026-03-29T00:00:00+01:00", [1] * 23))).days
    assert len(parsed.hours) == 23
    assert parsed.hours[0].start == dt.datetime(2026, 3, 28, 23, tzinfo=dt.UTC)
    # pas 2 is 03:00 local (02:00 does not exist), pas 22 is 23:00 local.
    assert parsed.hour(2).start == paris(2026, 3, 29, 3)  # type: ignore[union-attr]
    assert parsed.hour(22).start == paris(2026, 3, 29, 23)  # type: ignore[union-attr]


def test_a_24th_value_on_the_23_hour_day_is_left_out_and_counted() -> None:
    forecast = parse_signals(body(day("2026-03-29T00:00:00+01:00", [1] * 24)))
    assert len(forecast.days[0].hours) == 23
    assert forecast.ignored_values == 1


def test_october_change_day_has_25_hours() -> None:
    [parsed] = parse_signals(body(day("2026-10-25T00:00:00+02:00", [1] * 25))).days
    assert len(parsed.hours) == 25
    starts = [h.start for h in parsed.hours]
    assert starts[2] - starts[1] == dt.timedelta(hours=1)
    # Hours 2 and 3 are both 02:00 on the wall clock, an hour apart.
    assert starts[2].astimezone(paris(2026, 1, 1).tzinfo).hour == 2
    assert starts[3].astimezone(paris(2026, 1, 1).tzinfo).hour == 2
    assert parsed.hour(24).start == paris(2026, 10, 25, 23)  # type: ignore[union-attr]


def test_a_normal_day_with_only_23_values_keeps_its_gap() -> None:
    # The openHAB fixture has such a day: the missing hour stays missing.
    values = [{"pas": p, "hvalue": 1} for p in range(24) if p != 5]
    signal = day("2026-01-15T00:00:00+01:00", [1])
    signal["values"] = values
    [parsed] = parse_signals(body(signal)).days
    assert len(parsed.hours) == 23 and parsed.hour(5) is None


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(jour="2026-01-15"), "signals[0].jour"),
        (lambda d: d.update(jour="2026-01-15T00:00:00"), "signals[0].jour"),
        (lambda d: d.update(dvalue=4), "signals[0].dvalue"),
        (lambda d: d.update(dvalue=True), "signals[0].dvalue"),
        (lambda d: d["values"][3].update(hvalue=-1), "signals[0].values[3].hvalue"),
        (lambda d: d["values"][3].update(pas="3"), "signals[0].values[3].pas"),
        (lambda d: d["values"][3].update(pas=2), "signals[0].values[3].pas"),
        (lambda d: d.update(values=None), "signals[0].values"),
    ],
)
def test_bad_answers_name_the_field(mutate: Any, field: str) -> None:
    signal = day("2026-01-15T00:00:00+01:00", [1] * 24)
    mutate(signal)
    with pytest.raises(EcowattResponseError) as caught:
        parse_signals(body(signal))
    assert caught.value.field == field


def test_duplicate_days_and_bad_envelopes_are_refused() -> None:
    same = day("2026-01-15T00:00:00+01:00", [1] * 24)
    with pytest.raises(EcowattResponseError, match="appears twice"):
        parse_signals(body(same, same))
    with pytest.raises(EcowattResponseError, match="signals"):
        parse_signals('{"signal": []}')
    with pytest.raises(EcowattResponseError, match="not JSON"):
        parse_signals("<html>")


def _mock(handler_answers: list[httpx.Response], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/token/oauth/":
            return httpx.Response(
                200, json={"access_token": "tok", "token_type": "Bearer", "expires_in": 7199}
            )
        return handler_answers.pop(0)

    return httpx.MockTransport(handler)


def _client(transport: httpx.MockTransport, **options: object) -> EcowattClient:
    return EcowattClient(
        base_url="https://rte.example",
        token_url="https://rte.example/token/oauth/",
        client_id="id",
        client_secret="secret",
        transport=transport,
        **options,  # type: ignore[arg-type]
    )


def test_token_by_basic_auth_then_bearer_on_the_v5_path() -> None:
    seen: list[httpx.Request] = []
    answer = httpx.Response(200, text=body(day("2026-01-15T00:00:00+01:00", [1] * 24)))
    with _client(_mock([answer], seen), sandbox=False) as client:
        forecast = client.fetch(now=paris(2026, 1, 15, 10))
    assert len(forecast.days) == 1
    token_request, call = seen
    assert token_request.method == "POST"
    assert (
        token_request.headers["Authorization"] == "Basic " + base64.b64encode(b"id:secret").decode()
    )
    assert b"grant_type=client_credentials" in token_request.content
    assert call.url.path == "/open_api/ecowatt/v5/signals"
    assert call.headers["Authorization"] == "Bearer tok"


def test_sandbox_path() -> None:
    seen: list[httpx.Request] = []
    answer = httpx.Response(200, text=body())
    with _client(_mock([answer], seen), sandbox=True) as client:
        client.fetch(now=paris(2026, 1, 15, 10))
    assert seen[-1].url.path == "/open_api/ecowatt/v5/sandbox/signals"


def test_429_is_not_retried_and_carries_retry_after(no_waits: list[float]) -> None:
    seen: list[httpx.Request] = []
    limited = httpx.Response(429, headers={"Retry-After": "600"}, json={"error": "too many"})
    now = paris(2026, 1, 15, 10)
    with _client(_mock([limited], seen)) as client, pytest.raises(EcowattRateLimited) as caught:
        client.fetch(now=now)
    assert caught.value.retry_at == now + dt.timedelta(seconds=600)
    assert len([r for r in seen if "signals" in r.url.path]) == 1
    assert no_waits == []


def test_retry_after_as_an_http_date() -> None:
    seen: list[httpx.Request] = []
    limited = httpx.Response(429, headers={"Retry-After": "Thu, 15 Jan 2026 09:30:00 GMT"})
    with _client(_mock([limited], seen)) as client, pytest.raises(EcowattRateLimited) as caught:
        client.fetch(now=paris(2026, 1, 15, 10))
    assert caught.value.retry_at == dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)


def test_server_errors_are_retried(no_waits: list[float]) -> None:
    seen: list[httpx.Request] = []
    answers = [httpx.Response(503), httpx.Response(200, text=body())]
    with _client(_mock(answers, seen)) as client:
        assert client.fetch(now=paris(2026, 1, 15, 10)).days == ()
    assert len(no_waits) == 1
