"""Structured JSON logs with the request id, and redaction of every credential-looking value.

Redaction happens when a record is created (a log-record factory), so every handler - ours,
uvicorn's, pytest's - sees the redacted text: bearer tokens, JWTs, and the values of token,
secret, password, state and authorization-code fields in query strings, forms and JSON.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                         default=None)
REDACTED = "[REDACTED]"
_SENSITIVE_KEYS = (
    "access_token|refresh_token|id_token|token|client_secret|secret|password|passwd|"
    "code|code_verifier|code_challenge|state|authorization|oauth_token|oauth_verifier|"
    "oauth_token_secret|api_key|apikey|signature"
)
_PATTERNS = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*"), r"\1 " + REDACTED),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(rf"(?i)(?<![A-Za-z0-9_])((?:x-[a-z-]*-)?(?:{_SENSITIVE_KEYS}))"
                r"(['\"]?\s*[:=]\s*['\"]?)(?!\[REDACTED)([^&\s'\",;}]+)"),
     r"\1\2" + REDACTED),
    (re.compile(r"(?i)(://[^:/@\s]*:)([^@\s]+)(@)"), r"\1" + REDACTED + r"\3"),
)
# Fields of a record that the JSON formatter copies when a caller passes them in `extra=`.
_EXTRA_FIELDS = ("user_id", "method", "path", "route", "status", "duration_ms", "client",
                 "provider", "code", "count")
_STD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


def redact(text: str) -> str:
    """The text with credential-looking values replaced by [REDACTED]."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_installed = False


def _install_record_factory() -> None:
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        record.request_id = REQUEST_ID.get()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, known extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            out["request_id"] = request_id
        for name in _EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None and name not in _STD_ATTRS - {"code"}:
                out[name] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            out["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, default=str)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is now (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(level: str = "INFO") -> None:
    """Redact every record; send JSON lines to stderr from the root logger (idempotent)."""
    _install_record_factory()
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
