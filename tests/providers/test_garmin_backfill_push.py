"""Garmin's asynchronous backfill over real HTTP: the Developer Portal push URL, a 202 at once,
then the window's summaries delivered by PUSH at the client's endpoint."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import anyio
import httpx
import polars as pl
import pytest
from fastapi import FastAPI, Request

from providers.errors import VendorHTTPError
from providers.sandbox import SandboxCloud, SandboxServer, garmin
from providers.sandbox.cloud import SANDBOX_CREDENTIALS
from providers.sandbox.physiology import PERSONS
from providers.types import MemoryTokenStore, Window
from tests.support.live import serving
from tests.support.waiting import wait_until

TODAY = date(2025, 2, 20)


class Receiver:
    """A client's push endpoint: stores each delivery (headers, body) once its gate is open."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.gate = threading.Event()  # closed: every delivery waits at the door
        self.app = FastAPI()

        @self.app.post("/garmin/push")
        async def push(request: Request) -> dict[str, bool]:
            await anyio.to_thread.run_sync(self.gate.wait, 30.0)
            self.deliveries.append((dict(request.headers), await request.body()))
            return {"ok": True}

    def wait_for(self, count: int) -> None:
        wait_until(lambda: len(self.deliveries) >= count, f"{count} pushes")


@pytest.fixture
def own_sandbox():
    """A sandbox of its own: its push URL and backfill history start empty."""
    with SandboxServer(SandboxCloud(today=TODAY)) as server:
        yield server


def _portal(
    server: SandboxServer,
    url: str | None,
    secret: str = SANDBOX_CREDENTIALS["garmin"]["client_secret"],
) -> httpx.Response:
    return httpx.put(
        f"{server.base_url}/garmin/tools/endpoints",
        json={"url": url},
        auth=(SANDBOX_CREDENTIALS["garmin"]["client_id"], secret),
    )


def test_the_push_url_is_the_clients_own_setting(own_sandbox):
    assert _portal(own_sandbox, "http://127.0.0.1:9/x", secret="wrong").status_code == 401
    assert _portal(own_sandbox, "ftp://127.0.0.1/x").status_code == 400
    assert _portal(own_sandbox, "http://127.0.0.1:9/x").json() == {"url": "http://127.0.0.1:9/x"}
    assert own_sandbox.cloud["garmin"].push_url == "http://127.0.0.1:9/x"
    shown = httpx.get(
        f"{own_sandbox.base_url}/garmin/tools/endpoints",
        auth=tuple(SANDBOX_CREDENTIALS["garmin"].values()),
    )
    assert shown.json() == {"url": "http://127.0.0.1:9/x"}
    assert _portal(own_sandbox, None).json() == {"url": None}


@pytest.mark.anyio
@pytest.mark.slow
async def test_a_backfill_is_accepted_at_once_then_arrives_by_push(own_sandbox, link):
    from providers.registry import ProviderRegistry

    provider = ProviderRegistry.from_entry_points(own_sandbox.settings()).get("garmin")
    receiver = Receiver()  # its gate stays closed until the 202s are in: none may wait on it
    connection = await link(provider, connection_id="backfill")
    window = Window.for_days(date(2025, 2, 7), date(2025, 2, 10))  # Fri..Mon: a nap weekend
    lo, hi = int(window.start.timestamp()), int(window.end.timestamp())
    kinds = ("epochs", "bloodPressures", "healthSnapshot", "sleeps")
    state, ada = own_sandbox.cloud["garmin"], PERSONS["ada"]
    expected = [body for kind in kinds for body in garmin.backfill_bodies(state, ada, kind, lo, hi)]
    with serving(receiver.app) as base:
        assert _portal(own_sandbox, f"{base}/garmin/push").status_code == 200
        statuses = await provider.request_backfill(connection, window, MemoryTokenStore(), kinds)
        assert statuses == dict.fromkeys(kinds, 202)
        assert receiver.deliveries == []
        receiver.gate.set()
        receiver.wait_for(len(expected))
        again = await provider.request_backfill(connection, window, MemoryTokenStore(), ("sleeps",))
        assert again == {"sleeps": 409}
        with pytest.raises(VendorHTTPError):  # more than 30 days at once
            await provider.request_backfill(
                connection,
                Window(window.start, window.start + timedelta(days=31)),
                MemoryTokenStore(),
                ("hrv",),
            )
        wait_until(lambda: state.pushes_pending == 0, "the sandbox's deliveries to finish")
    assert sorted(body for _, body in receiver.deliveries) == sorted(expected)  # nothing more

    requests, raws = [], []
    for headers, body in receiver.deliveries:
        assert headers["garmin-client-id"] == SANDBOX_CREDENTIALS["garmin"]["client_id"]
        provider.verify_webhook(headers, body)
        requests += provider.parse_webhook(headers, body)
        raws.append(provider.push_records(connection, body))
    assert {r.vendor_user_id for r in requests} == {connection.vendor_user_id}
    assert {r.event for r in requests} == {"push"} and {r.record_type for r in requests} == set(
        kinds
    )
    # summaries are chosen by their start: ada's (+01:00) epochs from 01:00 local on the 7th
    # to 01:00 on the 11th, the nights that began on the evenings of the 7th to the 10th
    epoch_days = {r.day for r in requests if r.record_type == "epochs"}
    night_days = {r.day for r in requests if r.record_type == "sleeps"}
    assert epoch_days == {date(2025, 2, 7) + timedelta(days=k) for k in range(5)}
    assert night_days == {date(2025, 2, 8) + timedelta(days=k) for k in range(4)}
    raw = pl.concat(raws)
    starts = raw["payload"].str.json_decode(
        pl.Struct({"startTimeInSeconds": pl.Int64(), "measurementTimeInSeconds": pl.Int64()})
    )
    start = pl.coalesce(
        starts.struct.field("startTimeInSeconds"), starts.struct.field("measurementTimeInSeconds")
    )
    assert raw.select(start.is_between(lo, hi - 1).all()).item()

    formatted = provider.format_split(raw)
    assert formatted.quarantine.height == 0
    assert {
        "steps",
        "blood_pressure_systolic",
        "hrv_sdnn",
        "nap_duration",
        "sleep_duration_asleep",
    } <= set(formatted.values["indicator"])
    pulled = await provider.pull(
        connection, window, MemoryTokenStore(), record_types=("bloodPressures",)
    )
    pushed = raw.filter(pl.col("record_type") == "bloodPressures")
    assert set(pushed["vendor_id"]) <= set(pulled["vendor_id"]) and pushed.height > 0


def test_a_backfill_with_no_push_url_set_is_accepted_and_pushes_nothing(own_sandbox):
    """Without an endpoint configured Garmin still answers 202; the data has nowhere to go."""
    import anyio

    from providers.registry import ProviderRegistry
    from tests.providers.conftest import _link

    async def run() -> dict[str, int]:
        provider = ProviderRegistry.from_entry_points(own_sandbox.settings()).get("garmin")
        connection = await _link(provider)
        window = Window.for_days(date(2025, 2, 7), date(2025, 2, 8))
        return await provider.request_backfill(connection, window, MemoryTokenStore(), ("dailies",))

    assert own_sandbox.cloud["garmin"].push_url is None
    assert anyio.run(run) == {"dailies": 202}
