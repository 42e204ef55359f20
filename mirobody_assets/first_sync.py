"""What `mirobody up` tells the terminal about the sandbox users' initial history.

The pipeline's sensor starts one run per new user; this module follows those runs through the
Dagster webserver's GraphQL API (no Dagster import in the supervisor), counts each vendor's
pulled documents in `raw_records`, and calls a user ready once their run succeeded and their
days answer at the API's `/v1/series` as that user (the check the time-to-first-data bench
makes). `poll()` returns only the lines that are new since the previous call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import Engine, text

log = logging.getLogger("mirobody.up")
INITIAL_HISTORY_TAG = "initial-history"
RANGE_START = "dagster/asset_partition_range_start"
READY_INDICATOR = "steps"
_RUNS = """
query InitialHistory($tags: [ExecutionTag!]) {
  runsOrError(filter: {tags: $tags}) {
    __typename
    ... on Runs { results { runId status tags { key value } stepStats { stepKey status } } }
  }
}"""


def series_days(
    api_url: str, token: str, days: int, indicator: str = READY_INDICATOR
) -> list[date]:
    """The days among the last `days` with a daily `indicator` value at /v1/series."""
    end = datetime.now(UTC) + timedelta(days=1)
    reply = httpx.get(
        f"{api_url}/v1/series",
        headers={"Authorization": f"Bearer {token}"},
        params={
            "indicator": indicator,
            "resolution": "day",
            "limit": 1000,
            "start": (end - timedelta(days=days + 1)).isoformat(),
            "end": end.isoformat(),
        },
        timeout=10,
    )
    reply.raise_for_status()
    return sorted({date.fromisoformat(p["day"]) for p in reply.json()["data"] if p.get("day")})


def spans_history(found: list[date], days: int, today: date | None = None) -> bool:
    """Whether the days found reach from the history's first days to yesterday or today (a
    synthetic person, like a real one, skips a day now and then: gaps are allowed)."""
    today = today or datetime.now(UTC).date()
    return (
        bool(found)
        and found[0] <= today - timedelta(days=days - 2)
        and found[-1] >= today - timedelta(days=1)
    )


def login(api_url: str, email: str, password: str) -> str:
    """An access token for the user (the sandbox users' password is in sandbox-users.json)."""
    reply = httpx.post(
        f"{api_url}/v1/auth/login", json={"email": email, "password": password}, timeout=30
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


@dataclass
class _User:
    email: str
    user_id: str
    pulled: set[str] = field(default_factory=set)
    normalised: bool = False
    ready: bool = False
    failed: bool = False
    token: str | None = None


class FirstSyncWatch:
    """Follows the initial-history runs of the given users and reports their progress."""

    def __init__(
        self,
        engine: Engine,
        dagster_url: str,
        api_url: str,
        users: dict[str, str],
        vendors: list[str],
        password: str,
        history_days: int,
    ) -> None:
        self._engine, self._dagster, self._api = engine, dagster_url, api_url
        self._vendors = sorted(vendors)
        self._users = {uid: _User(email, uid) for email, uid in users.items()}
        self._password, self._days = password, history_days
        self.started = False  # an initial-history run of one of the users exists

    def close(self) -> None:
        self._engine.dispose()

    @property
    def done(self) -> bool:
        return all(u.ready or u.failed for u in self._users.values())

    @property
    def all_ready(self) -> bool:
        return all(u.ready for u in self._users.values())

    def poll(self) -> list[str]:
        lines: list[str] = []
        for run in self._runs():
            tags = {t["key"]: t["value"] for t in run["tags"]}
            user = self._users.get(tags.get(RANGE_START, "").partition("|")[2])
            if user is None or user.ready or user.failed:
                continue
            self.started = True
            steps = {s["stepKey"]: s["status"] for s in run["stepStats"]}
            lines += self._pulls(user, steps)
            if not user.normalised and steps.get("indicator_values") == "SUCCESS":
                user.normalised = True
                lines.append(f"{_name(user)}  normalised to standard indicators")
            if run["status"] in ("FAILURE", "CANCELED"):
                user.failed = True
                lines.append(
                    f"{_name(user)}  the initial sync {run['status'].lower()}: see "
                    f"{self._dagster}/runs/{run['runId']}"
                )
            elif run["status"] == "SUCCESS" and (found := self._answers(user)):
                user.ready = True
                lines.append(
                    f"{_name(user)}  ready: {found[0]}..{found[-1]} answer at "
                    f"/v1/series ({len(found)} days with {READY_INDICATOR})"
                )
        return lines

    def _runs(self) -> list[dict]:  # type: ignore[type-arg]
        reply = httpx.post(
            f"{self._dagster}/graphql",
            timeout=10,
            json={
                "query": _RUNS,
                "variables": {"tags": [{"key": "mirobody/reason", "value": INITIAL_HISTORY_TAG}]},
            },
        )
        reply.raise_for_status()
        found = reply.json()["data"]["runsOrError"]
        return list(found.get("results", []))

    def _pulls(self, user: _User, steps: dict[str, str]) -> list[str]:
        done = {
            slug for slug in self._vendors if steps.get(f"raw_{slug}") == "SUCCESS"
        } - user.pulled
        if not done:
            return []
        user.pulled |= done
        with self._engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT provider, count(*) FROM raw_records "
                    "WHERE user_id = CAST(:u AS uuid) GROUP BY provider"
                ),
                {"u": user.user_id},
            ).all()
        counts: dict[str, int] = {str(provider): int(n) for provider, n in rows}
        return [
            f"{_name(user)}  pulled {slug:<9} {counts.get(slug, 0):>6,} documents"
            for slug in sorted(done)
        ]

    def _answers(self, user: _User) -> list[date]:
        """The user's days at /v1/series once they span the history, else []."""
        try:
            user.token = user.token or login(self._api, user.email, self._password)
            found = series_days(self._api, user.token, self._days)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 401:
                user.token = None  # expired: log in again next time
            log.debug("series for %s not ready: %s", user.email, exc)
            return []
        return found if spans_history(found, self._days) else []


def _name(user: _User) -> str:
    return f"  {user.email.split('@')[0]:<4}"
