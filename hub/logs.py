"""Structured logging: stdlib loggers rendered by structlog.

JSON lines in production, a readable console format when DEBUG is on.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

import structlog


def configure(config: dict[str, Any]) -> None:
    """Django's ``LOGGING_CONFIG``: ``LOGGING`` applied, and Python's warnings logged as lines of
    their own (``py.warnings``) instead of printed as text between the JSON lines."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)


def build_formatter(*, json: bool) -> logging.Formatter:
    processors: list[structlog.types.Processor] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta
    ]
    if json:
        # The exception as data (type, message, frames) instead of a repr of the traceback
        # object, which JSON would otherwise carry as "<traceback object at …>". Without the
        # frames' local variables: they may hold tokens, passwords or personal data.
        tracebacks = structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        )
        processors += [tracebacks, structlog.processors.JSONRenderer()]
    else:
        processors.append(structlog.dev.ConsoleRenderer(colors=False))
    return structlog.stdlib.ProcessorFormatter(
        processors=processors,
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
    )
