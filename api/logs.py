"""Structured JSON logs with the request id, and redaction of every credential-looking value.

Redaction happens when a record is created (a log-record factory), so every handler - ours,
uvicorn's, pytest's - sees the redacted text: bearer tokens, JWTs, the values of token, secret,
password, state and authorization-code fields in query strings, forms and JSON, and secrets
carried in URL paths (secret MCP URLs `/mcp/u/mcpk_...`, webhook URLs
`/v1/webhooks/<provider>/whk_...`), whatever the method, status or route match. A record's
traceback is redacted too.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
REDACTED = "[REDACTED]"
_SENSITIVE_KEYS = (
    "access_token|refresh_token|id_token|token|client_secret|secret|password|passwd|"
    "code|code_verifier|code_challenge|state|authorization|oauth_token|oauth_verifier|"
    "oauth_token_secret|api_key|apikey|signature"
)
_NOT_TEMPLATE = r"(?!\{\w+\}(?:[\s/?#'\"]|$))"
_PATH_REST = r"[^\s?#'\"]+"
_PATTERNS = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*"), r"\1 " + REDACTED),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    (
        re.compile(
            rf"(?i)(?<![A-Za-z0-9_])((?:x-[a-z-]*-)?(?:{_SENSITIVE_KEYS}))"
            r"(['\"]?\s*[:=]\s*['\"]?)(?!\[REDACTED)([^&\s'\",;}]+)"
        ),
        r"\1\2" + REDACTED,
    ),
    (re.compile(r"(?i)(://[^:/@\s]*:)([^@\s]+)(@)"), r"\1" + REDACTED + r"\3"),
    # Secrets that live in URL paths: the tokens themselves (also %-encoded), then whatever
    # follows their path prefix (a sub-path, a mistyped secret), up to the query string.
    # A route template's placeholder (`/mcp/u/{secret}`) is not a secret and stays legible.
    (re.compile(r"(?i)(mcpk|whk)(?:_|%5F)[A-Za-z0-9_%-]+"), r"\1_" + REDACTED),
    (re.compile(rf"(?i)(/mcp/u/){_NOT_TEMPLATE}{_PATH_REST}"), r"\1" + REDACTED),
    (re.compile(rf"(?i)(/v1/webhooks/[^/\s?#'\"]+/){_NOT_TEMPLATE}{_PATH_REST}"), r"\1" + REDACTED),
)
# Fields of a record that the JSON formatter copies when a caller passes them in `extra=`.
_EXTRA_FIELDS = (
    "user_id",
    "method",
    "path",
    "route",
    "status",
    "duration_ms",
    "client",
    "provider",
    "code",
    "count",
)
_STD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


def redact(text: str) -> str:
    """The text with credential-looking values replaced by [REDACTED]."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def route_template(scope: Mapping[str, Any]) -> str:
    """What a log line may say about a request's path: its route template (/v1/series/{id}),
    never the concrete path, which can hold ids and secrets; "unmatched" when no route matched."""
    path = getattr(scope.get("route"), "path", None)
    return str(path) if path else "unmatched"


_installed = False
_TRACEBACKS = logging.Formatter()


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
        if record.exc_info and not record.exc_text:
            # Formatters print exc_text when it is set: the traceback is redacted once, here.
            record.exc_text = redact(_TRACEBACKS.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
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
            out["exception"] = redact(record.exc_text or self.formatException(record.exc_info))
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
