"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel
from sqlalchemy import text

from api.state import AppState, get_state

router = APIRouter(tags=["operations"])
CHECK_TIMEOUT_S = 3.0


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str]


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up (it does not look at dependencies; see /readyz)."""
    return Health(status="ok")


def _check_database(state: AppState) -> None:
    with state.engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()


def _check_redis(state: AppState) -> None:
    if not state.redis.ping():
        raise ConnectionError("no PONG")


async def _run_check(fn: object, state: AppState) -> str:
    try:
        await asyncio.wait_for(asyncio.to_thread(fn, state), CHECK_TIMEOUT_S)  # type: ignore[arg-type]
    except TimeoutError:
        return "error: timed out"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the class is reported
        # Only the error class: messages can carry connection strings.
        return f"error: {type(exc).__name__}"
    return "ok"


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(state: Annotated[AppState, Depends(get_state)], response: Response) -> Readiness:
    """Ready to serve: PostgreSQL answers a query and Redis answers PING."""
    db, rds = await asyncio.gather(
        _run_check(_check_database, state), _run_check(_check_redis, state)
    )
    checks = {"database": db, "redis": rds}
    ready = all(v == "ok" for v in checks.values())
    if not ready:
        response.status_code = 503
    return Readiness(status="ready" if ready else "unavailable", checks=checks)
