"""The upload pushes each user's partitions to a remote ingest URL with an idempotency key."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import dagster as dg
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.partitions import range_tags
from mirobody_assets.pipeline.resources import MirobodyResource

from .conftest import TODAY

DAY = TODAY - timedelta(days=4)


class Receiver:
    """A Mirobody-compatible ingest endpoint that fails once, then records what it accepts."""

    def __init__(self) -> None:
        self.bodies: dict[str, dict[str, object]] = {}
        self.attempts = 0
        app = FastAPI()

        @app.post("/ingest")
        async def ingest(request: Request) -> Response:
            self.attempts += 1
            if self.attempts == 1:
                return Response(status_code=503)
            key = request.headers["idempotency-key"]
            self.bodies.setdefault(key, json.loads(await request.body()))
            return Response(status_code=202)

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/ingest"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.should_exit = True
    r.thread.join(timeout=5)


def test_upload_pushes_each_user_once_per_content_with_an_idempotency_key(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    receiver: Receiver,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    users = [make_user(), make_user()]
    for user, person in zip(users, ("ada", "ben"), strict=True):
        link(user, "oura", person)
    dagster_instance.add_dynamic_partitions("users", users)
    pushing = MirobodyResource(**{**mirobody.model_dump(), "remote_ingest_url": receiver.url})
    for _ in range(2):
        result = dg.materialize(
            ALL_ASSETS,
            instance=dagster_instance,
            resources={"mirobody": pushing},
            tags=range_tags(DAY, DAY, users[0], users[-1]),
        )
        assert result.success
    # two runs of identical content: two distinct keys (one per user), not four
    assert len(receiver.bodies) == 2
    assert receiver.attempts == 5  # one refused and retried, then 2 users x 2 runs
    by_user = {b["user_id"]: b for b in receiver.bodies.values()}
    assert set(by_user) == set(users)
    for body in by_user.values():
        assert body["days"] == [DAY.isoformat()]
        assert body["daily_summary"] and body["indicator_values"]
