"""API tokens: creation (the plaintext is returned once), revocation, checking a token."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, transaction

from hub.actors import NOBODY, Actor
from hub.models import ApiToken, Organisation
from hub.netaddr import InvalidNetwork, address_allowed, parse_networks
from hub.rows import Columns
from hub.services import audit

TOKEN_PREFIX = "hub"  # noqa: S105 - a public marker, not a secret
SCOPES = ("read", "write")
# Last-use bookkeeping is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
MAX_SEEN_IPS = 50
# A token authenticated by this process is remembered this long (seconds) for ``remembered``;
# every use of a remembered token is checked against its row by the reader's own query.
REMEMBER_SECONDS = 60.0
_REMEMBERED_MAX = 10_000
_remembered: dict[str, tuple[float, ApiToken]] = {}


class TokenError(Exception):
    """Base class: the presented token cannot be used."""


class TokenInvalid(TokenError):
    pass


class TokenExpired(TokenError):
    pass


class TokenRevoked(TokenError):
    pass


class AddressNotAllowed(TokenError):
    pass


class TokenSpecError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str


def _hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_token(
    *,
    organisation: Organisation,
    name: str,
    allowed_networks: Sequence[str] = (),
    scopes: Sequence[str] = (),
    expires_at: dt.datetime | None = None,
    actor: Actor = NOBODY,
) -> IssuedToken:
    try:
        networks = [str(n) for n in parse_networks(allowed_networks)]
    except InvalidNetwork as exc:
        raise TokenSpecError("allowed_networks", str(exc)) from exc
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise TokenSpecError("scopes", f"unknown scopes {unknown}; known: {list(SCOPES)}")
    if not name.strip():
        raise TokenSpecError("name", "required")
    if ApiToken.objects.filter(organisation=organisation, name=name).exists():
        raise TokenSpecError("name", "a token of this organisation already has this name")
    prefix = secrets.token_hex(6)
    plaintext = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            organisation=organisation,
            name=name,
            prefix=prefix,
            key_hash=_hash(plaintext),
            scopes=list(scopes),
            allowed_networks=networks,
            expires_at=expires_at,
            created_by=actor.user,
        )
        audit.record(
            action="api_token.created",
            actor=actor,
            organisation=organisation,
            target=token,
            after={
                "name": name,
                "scopes": list(scopes),
                "allowed_networks": networks,
                "expires_at": expires_at,
            },
        )
    return IssuedToken(token, plaintext)


def revoke_token(*, token: ApiToken, now: dt.datetime, actor: Actor = NOBODY) -> None:
    forget(token)
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit.record(
            action="api_token.revoked",
            actor=actor,
            organisation=token.organisation,
            target=token,
            before={"revoked_at": None},
            after={"revoked_at": now},
            at=now,
        )


def authenticate(*, plaintext: str, ip: str, now: dt.datetime) -> ApiToken:
    """The token ``plaintext`` names, if it may be used from ``ip`` at ``now``; else TokenError."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise TokenInvalid("malformed token")
    token = _by_prefix(parts[1])
    if token is None or not hmac.compare_digest(token.key_hash, _hash(plaintext)):
        raise TokenInvalid("unknown token")
    if token.revoked_at is not None:
        raise TokenRevoked("token revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenExpired("token expired")
    if token.allowed_networks and not address_allowed(ip, token.allowed_networks):
        raise AddressNotAllowed(f"address {ip} is not in the token's allowed networks")
    _note_use(token, ip=ip, now=now)
    if len(_remembered) >= _REMEMBERED_MAX:
        _remembered.clear()
    _remembered[token.key_hash] = (time.monotonic(), copy.copy(token))
    return token


def _by_prefix(prefix: str) -> ApiToken | None:
    """The token with ``prefix`` (unique) and its organisation, as the ORM would load them.

    Every token call starts here: the statement is written once per process, where building
    the same query through the ORM cost three times the round trip."""
    sql, token_columns, organisation_columns = _lookup_statement(connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    token = token_columns.build(row)
    token.organisation = organisation_columns.build(row, token_columns.width)
    return token


@functools.cache
def _lookup_statement(alias: str) -> tuple[str, Columns[ApiToken], Columns[Organisation]]:
    quote = connections[alias].ops.quote_name
    token = Columns(ApiToken, "t", using=alias)
    organisation = Columns(Organisation, "o", using=alias)
    tokens, organisations = quote(ApiToken._meta.db_table), quote(Organisation._meta.db_table)
    sql = (
        f"SELECT {token.sql}, {organisation.sql} FROM {tokens} t JOIN {organisations} o "
        f"ON o.{quote('id')} = t.{quote('organisation_id')} WHERE t.{quote('prefix')} = %s"
    )
    return sql, token, organisation


def remembered(*, plaintext: str, ip: str, now: dt.datetime) -> ApiToken | None:
    """The token ``plaintext`` names as this process found it usable in the last
    ``REMEMBER_SECONDS``, if using it from ``ip`` at ``now`` needs nothing written; else ``None``
    (``authenticate`` then decides). Its row may have changed since (revoked, edited): the
    caller reads only in a query that also evaluates ``unchanged_sql`` and acts on it."""
    entry = _remembered.get(_hash(plaintext))
    if entry is None or time.monotonic() - entry[0] > REMEMBER_SECONDS:
        return None
    token = entry[1]
    if not token.is_usable(now=now):
        return None
    if token.allowed_networks and not address_allowed(ip, token.allowed_networks):
        return None
    if _needs_note(token, ip=ip, now=now):
        return None
    return copy.copy(token)


def unchanged_sql(token: ApiToken, *, now: dt.datetime) -> tuple[str, list[Any]]:
    """A boolean SQL expression: ``token``'s row still says what this process remembers of it
    (what authorises a call) and it is usable at ``now``. NULL once the row is gone."""
    return (
        f"(SELECT t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > %s) "
        "AND t.expires_at IS NOT DISTINCT FROM %s AND t.organisation_id = %s "
        "AND t.key_hash = %s AND t.scopes = %s::jsonb AND t.allowed_networks = %s::jsonb "
        f"FROM {ApiToken._meta.db_table} AS t WHERE t.id = %s)",
        [
            now,
            token.expires_at,
            token.organisation_id,
            token.key_hash,
            json.dumps(token.scopes),
            json.dumps(token.allowed_networks),
            token.pk,
        ],
    )


def forget(token: ApiToken) -> None:
    """Drop ``token`` from what this process remembers (its next use is authenticated anew)."""
    _remembered.pop(token.key_hash, None)


def _needs_note(token: ApiToken, *, ip: str, now: dt.datetime) -> bool:
    new_ip = bool(ip) and ip not in token.seen_ips
    stale = token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION
    return new_ip or stale or ip != token.last_used_ip


def _note_use(token: ApiToken, *, ip: str, now: dt.datetime) -> None:
    if not _needs_note(token, ip=ip, now=now):
        return
    new_ip = bool(ip) and ip not in token.seen_ips
    token.last_used_at = now
    token.last_used_ip = ip or None
    fields = ["last_used_at", "last_used_ip"]
    if not new_ip:
        token.save(update_fields=fields)
        return
    token.seen_ips = [*token.seen_ips, ip][-MAX_SEEN_IPS:]
    fields.append("seen_ips")
    with transaction.atomic():
        token.save(update_fields=fields)
        audit.record(
            action="api_token.new_ip",
            actor=Actor(label=f"token {token.prefix}", ip=ip),
            organisation=token.organisation,
            target=token,
            after={"ip": ip},
            at=now,
        )
