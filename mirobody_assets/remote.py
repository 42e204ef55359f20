"""Push a run's partitions to a remote Mirobody-compatible ingest endpoint.

One POST per user with that user's days, indicator values and daily summaries, as JSON. The
`Idempotency-Key` header is a digest of the user, the days and the content, so a retried or
re-run push of unchanged data is recognisably the same request and the receiver can drop it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass

import httpx
import polars as pl

log = logging.getLogger(__name__)

RETRIES = 4


class RemotePushError(RuntimeError):
    """The remote endpoint refused the push (its status is kept, its body is not echoed)."""


@dataclass(frozen=True)
class PushReport:
    requests: int
    rows: int
    keys: tuple[str, ...]


def _records(frame: pl.DataFrame) -> list[dict[str, object]]:
    return json.loads(frame.write_json())  # type: ignore[no-any-return]


def build_payloads(
    values: pl.DataFrame, summary: pl.DataFrame, parts: pl.DataFrame
) -> list[tuple[str, bytes]]:
    """(idempotency key, JSON body) per user of the partitions."""
    out = []
    for (user,), days in parts.sort("user_id", "day").group_by(["user_id"], maintain_order=True):
        body = json.dumps(
            {
                "user_id": user,
                "days": [d.isoformat() for d in days["day"].to_list()],
                "indicator_values": _records(values.filter(pl.col("user_id") == user)),
                "daily_summary": _records(summary.filter(pl.col("user_id") == user)),
            },
            sort_keys=True,
            default=str,
        ).encode()
        out.append((hashlib.sha256(body).hexdigest(), body))
    return out


def push(
    url: str,
    token: str | None,
    values: pl.DataFrame,
    summary: pl.DataFrame,
    parts: pl.DataFrame,
    timeout_s: float = 30.0,
) -> PushReport:
    """POST every user's payload, retrying 5xx, 429 and network errors with backoff."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payloads = build_payloads(values, summary, parts)
    with httpx.Client(timeout=timeout_s) as client:
        for key, body in payloads:
            _post(client, url, {**headers, "Idempotency-Key": key}, body)
    return PushReport(len(payloads), values.height + summary.height, tuple(k for k, _ in payloads))


def _post(client: httpx.Client, url: str, headers: dict[str, str], body: bytes) -> None:
    for attempt in range(RETRIES + 1):
        try:
            response = client.post(url, content=body, headers=headers)
        except httpx.TransportError as exc:
            if attempt == RETRIES:
                raise RemotePushError(f"remote ingest unreachable: {type(exc).__name__}") from exc
        else:
            if response.status_code < 300:
                return
            retryable = response.status_code == 429 or response.status_code >= 500
            if not retryable or attempt == RETRIES:
                raise RemotePushError(f"remote ingest answered {response.status_code}")
        wait = min(8.0, 0.5 * 2**attempt)
        log.warning("remote ingest push failed (attempt %d); retrying in %.1f s", attempt + 1, wait)
        time.sleep(wait)
