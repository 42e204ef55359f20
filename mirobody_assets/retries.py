"""Failed pulls become retry requests for exactly the failed user-days.

A raw step stores every other user's records and, for each user whose pull failed (after the
HTTP client's own retries), records a `retry` sync request for that user's days. The sync
sensor re-runs just those partitions; after MAX_ATTEMPTS the request is kept as `failed` with
the cause, and the raw asset's check turns red.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, text

from mirobody_assets.ingest import PartitionFailure

MAX_ATTEMPTS = 3


def request_retries(conn: Connection, failures: Sequence[PartitionFailure]) -> dict[str, int]:
    """Record retry requests for the failures (re-authorisation is the user's, not retried).

    Returns how many were queued and how many gave up.
    """
    queued = gave_up = 0
    for failure in failures:
        if failure.needs_reauth:
            continue
        first, last = date.fromisoformat(failure.days[0]), date.fromisoformat(failure.days[-1])
        attempts = conn.execute(text(
            "SELECT count(*) FROM sync_requests WHERE kind = 'retry' AND user_id = :u "
            "AND provider = :p AND start_day = :s AND end_day = :e"),
            {"u": failure.user_id, "p": failure.provider, "s": first, "e": last}).scalar_one()
        exhausted = attempts >= MAX_ATTEMPTS
        conn.execute(text(
            "INSERT INTO sync_requests (user_id, provider, kind, start_day, end_day, status, "
            "requested_by, error, payload) VALUES (:u, :p, 'retry', :s, :e, :status, "
            "'pipeline', :error, CAST(:payload AS jsonb))"),
            {"u": failure.user_id, "p": failure.provider, "s": first, "e": last,
             "status": "failed" if exhausted else "pending", "error": failure.cause[:2000],
             "payload": f'{{"attempt": {attempts + 1}}}'})
        if exhausted:
            gave_up += 1
        else:
            queued += 1
    return {"retries_queued": queued, "retries_exhausted": gave_up}
