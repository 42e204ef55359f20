"""Opaque keyset cursors: the last row's sort key, base64url JSON, checked on the way back in."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from api.errors import InvalidRequestError


def encode_cursor(kind: str, key: list[Any]) -> str:
    raw = json.dumps({"k": kind, "v": key}, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: str, size: int) -> list[Any] | None:
    """The key from a cursor issued for the same kind of query, or 422."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        doc = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidRequestError("cursor is not valid", code="invalid_cursor") from None
    if not isinstance(doc, dict) or doc.get("k") != kind:
        raise InvalidRequestError("cursor belongs to another query", code="invalid_cursor")
    key = doc.get("v")
    if not isinstance(key, list) or len(key) != size or not all(isinstance(v, str) for v in key):
        raise InvalidRequestError("cursor is not valid", code="invalid_cursor")
    return key
