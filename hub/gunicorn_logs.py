"""gunicorn's error and access lines in the hub's structured format (``logger_class``)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import environ
from gunicorn.glogging import Logger

from hub.logs import build_formatter
from hub.redaction import redacted_query

# What an access line carries. Never a header (Authorization, cookies) nor a body; the query
# string with the values of credential-like parameters replaced (``?token=…`` is not written
# in clear as gunicorn's own format writes it); no referer (another site's URL, its query
# included) and no HTTP Basic user name (gunicorn's ``%(u)s``).
ACCESS_EVENT = "http_access"
_MAX_USER_AGENT = 200


class HubLogger(Logger):
    """gunicorn's loggers with the hub's formatter: JSON lines unless ``DJANGO_DEBUG`` (read as
    ``hub.settings`` reads it), like every other process of the hub. A logging configuration
    given to gunicorn (``--log-config``, ``logconfig_dict``) is left as it is."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if cfg.logconfig or cfg.logconfig_dict or cfg.logconfig_json:
            return
        formatter = build_formatter(json=not environ.Env().bool("DJANGO_DEBUG", default=False))
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)

    def access(self, resp: Any, req: Any, wsgi: dict[str, Any], request_time: Any) -> None:
        """One line per request, its fields also in the message (as ``hub.http`` writes its
        calls), whichever way the formatter renders extras."""
        if not (_access_wanted(self.cfg) and self.access_log.isEnabledFor(logging.INFO)):
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        given = {
            "method": wsgi.get("REQUEST_METHOD"),
            "path": wsgi.get("PATH_INFO"),
            "query": redacted_query(wsgi.get("QUERY_STRING", "")) or None,
            "status": int(status) if str(status).isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(_seconds(request_time) * 1000, 1),
            "remote_addr": wsgi.get("REMOTE_ADDR"),
            "protocol": wsgi.get("SERVER_PROTOCOL"),
            "user_agent": (wsgi.get("HTTP_USER_AGENT") or "")[:_MAX_USER_AGENT] or None,
        }
        fields = {key: value for key, value in given.items() if value is not None}
        try:
            self.access_log.info(
                "%s %s",
                ACCESS_EVENT,
                " ".join(f"{key}={value}" for key, value in fields.items()),
                extra=fields,
            )
        except Exception:  # as gunicorn's own access(): a bad line never fails the request
            self.error_log.exception("access log line failed")


def _access_wanted(cfg: Any) -> bool:
    # gunicorn's own rule (``Logger.access``): an access log, a logging configuration that may
    # route its lines, or syslog receiving them.
    return bool(
        cfg.accesslog
        or cfg.logconfig
        or cfg.logconfig_dict
        or cfg.logconfig_json
        or (cfg.syslog and not cfg.disable_redirect_access_to_syslog)
    )


def _seconds(request_time: dt.timedelta | float) -> float:
    if isinstance(request_time, dt.timedelta):
        return request_time.total_seconds()
    return float(request_time)
