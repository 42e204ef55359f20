"""Vendor failures, revoked grants and a writer killed mid-transaction: retried, correct data or
a failed partition that names its cause; never missing or duplicated rows."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta

import dagster as dg
import pytest
from sqlalchemy import Engine, text

from mirobody_assets.connections import ConnectionRepository
from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.checks import ALL_CHECKS
from mirobody_assets.pipeline.partitions import range_tags
from mirobody_assets.pipeline.resources import MirobodyResource
from providers.sandbox import SandboxServer
from providers.sandbox.oauth_server import Budget
from tests.support.waiting import wait_until

from .conftest import KEYS, TODAY
from .test_materialize import SNAPSHOT, _snapshot

DAY = TODAY - timedelta(days=2)


@pytest.fixture(autouse=True)
def _calm_sandbox(sandbox: SandboxServer) -> Iterator[None]:
    yield
    for vendor in sandbox.cloud.vendors.values():
        vendor.fail_next.clear()
        vendor.budget = None
        vendor.garble_next = 0


def _run(
    instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    users: list[str],
    assets: list[dg.AssetsDefinition] | None = None,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets or ALL_ASSETS,
        instance=instance,
        resources={"mirobody": mirobody},
        tags=range_tags(DAY, DAY, users[0], users[-1]),
        raise_on_error=False,
    )


def test_injected_5xx_and_429_are_retried_into_the_same_rows(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    sandbox: SandboxServer,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    calm, stormy = make_user(), make_user()
    link(calm, "whoop", "ada")
    link(stormy, "whoop", "ada")  # the same person's truth through another vendor account
    dagster_instance.add_dynamic_partitions("users", [calm, stormy])
    assert _run(dagster_instance, mirobody, [calm]).success
    sandbox.cloud["whoop"].fail_next.extend([500, 503, 502])
    sandbox.cloud["whoop"].budget = Budget(limit=3, window_s=1.0)
    assert _run(dagster_instance, mirobody, [stormy]).success
    snap = _snapshot(engine, [calm, stormy], mirobody)
    # every value alike; only the vendor's record ids (built from its account ids) differ
    values = {u: [r[1:-1] for r in snap["indicator_values"] if r[0] == u] for u in (calm, stormy)}
    assert values[calm] and values[calm] == values[stormy]


def _impatient(mirobody: MirobodyResource, timeout_s: float) -> MirobodyResource:
    """The same resource with a short vendor timeout (a new one: the registry is cached)."""
    fields = {k: getattr(mirobody, k) for k in type(mirobody).model_fields}
    return MirobodyResource(**{**fields, "vendor_timeout_s": timeout_s})


def test_vendor_timeouts_are_retried_into_the_same_rows(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    sandbox: SandboxServer,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    calm, stalled = make_user(), make_user()
    link(calm, "oura", "ben")
    link(stalled, "oura", "ben")
    dagster_instance.add_dynamic_partitions("users", [calm, stalled])
    assert _run(dagster_instance, mirobody, [calm]).success
    oura = sandbox.cloud["oura"]
    oura.slow_next.extend([2.0, 2.0])  # the next two data requests stall past the timeout
    with caplog.at_level(logging.INFO, logger="providers.http"):
        assert _run(dagster_instance, _impatient(mirobody, 0.5), [stalled]).success
    assert not oura.slow_next
    assert sum("timed out after 0.5 s" in r.getMessage() for r in caplog.records) == 2
    snap = _snapshot(engine, [calm, stalled], mirobody)
    values = {u: [r[1:] for r in snap["indicator_values"] if r[0] == u] for u in (calm, stalled)}
    assert values[calm] and values[calm] == values[stalled]


def test_a_vendor_timing_out_for_good_fails_that_user_and_names_the_timeout(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    sandbox: SandboxServer,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    stuck, fine = make_user(), make_user()
    link(stuck, "polar", "ada")
    link(fine, "whoop", "ada")
    dagster_instance.add_dynamic_partitions("users", [stuck, fine])
    sandbox.cloud["polar"].slow_next.extend([1.0] * 10)  # more stalls than the client retries
    result = _run(dagster_instance, _impatient(mirobody, 0.3), [stuck, fine])
    sandbox.cloud["polar"].slow_next.clear()
    kept = len(mirobody.facts.user_files(fine))
    with engine.connect() as conn:
        retry = conn.execute(
            text(
                "SELECT status, error FROM sync_requests WHERE user_id = :u AND provider = 'polar'"
            ),
            {"u": stuck},
        ).one()
    assert kept > 0  # the other user's data is stored
    assert retry.status == "pending"
    assert "timed out after 0.3 s" in retry.error
    raw = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "raw_polar"
    ]
    assert raw and stuck in str(raw[0].materialization.metadata["failed user-days"])


def test_a_revoked_grant_needs_reauth_and_the_run_goes_on_for_everyone_else(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    sandbox: SandboxServer,
    repo: ConnectionRepository,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    revoked, fine = make_user(), make_user()
    link(revoked, "oura", "ben")
    link(fine, "oura", "ada")
    dagster_instance.add_dynamic_partitions("users", [revoked, fine])
    (conn,) = repo.active("oura", [revoked])
    sandbox.cloud["oura"].oauth.revoke_access(conn.tokens.access_token)
    sandbox.cloud["oura"].oauth.expire_access_tokens()

    result = _run(dagster_instance, mirobody, [revoked, fine])
    assert result.success
    with engine.connect() as c:
        status = dict(
            c.execute(
                text(
                    "SELECT user_id::text, status FROM provider_connections "
                    "WHERE provider = 'oura' AND user_id = ANY(CAST(:u AS uuid[]))"
                ),
                {"u": [revoked, fine]},
            ).all()
        )
    assert status == {revoked: "needs_reauth", fine: "active"}
    snap = _snapshot(engine, [revoked, fine], mirobody)
    assert {r[0] for r in snap["indicator_values"]} == {fine}


def _retry_requests(engine: Engine, user: str) -> list[tuple[object, ...]]:
    with engine.connect() as c:
        return [
            tuple(r)
            for r in c.execute(
                text(
                    "SELECT provider, status, start_day, end_day, error FROM sync_requests "
                    "WHERE user_id = :u AND kind = 'retry' ORDER BY id"
                ),
                {"u": user},
            ).all()
        ]


def test_a_vendor_that_keeps_failing_is_named_and_only_that_user_day_is_queued_again(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    sandbox: SandboxServer,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    failing, fine = make_user(), make_user()
    link(failing, "garmin", "ada")
    link(fine, "oura", "ada")
    dagster_instance.add_dynamic_partitions("users", [failing, fine])
    sandbox.cloud["garmin"].fail_next.extend([500] * 200)
    result = _run(dagster_instance, mirobody, [failing, fine])
    assert result.success  # the run goes on for everyone else
    (mat,) = [
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key.to_user_string() == "raw_garmin"
    ][:1]
    named = mat.materialization.metadata["failed user-days"].value
    assert [(f["user"], f["provider"]) for f in named] == [(failing, "garmin")]  # type: ignore[index, union-attr]
    assert "VendorHTTPError" in named[0]["cause"]  # type: ignore[index]
    (retry,) = _retry_requests(engine, failing)
    assert retry[:4] == ("garmin", "pending", DAY, DAY)
    assert _retry_requests(engine, fine) == []
    snap = _snapshot(engine, [failing, fine], mirobody)
    assert {r[0] for r in snap["indicator_values"]} == {fine}
    # the raw asset's check says someone is waiting for a retry
    check = next(
        c
        for c in ALL_CHECKS
        if "raw_garmin:pull_failures" in {k.to_user_string() for k in c.check_keys}
    )
    evaluation = check(mirobody=mirobody)
    assert not evaluation.passed and evaluation.metadata["waiting_for_retry"].value >= 1


KILLED_WRITER = """
import sys, dagster as dg
from mirobody_assets.pipeline.assets import indicator_values
from mirobody_assets.pipeline.partitions import range_tags
from mirobody_assets.pipeline.resources import MirobodyResource
from datetime import date
user, day, db, data, sandbox, keys = sys.argv[1:]
res = MirobodyResource(database_url=db, data_dir=data, sandbox_url=sandbox,
                       token_encryption_keys=keys)
d = date.fromisoformat(day)
instance = dg.DagsterInstance.ephemeral()
instance.add_dynamic_partitions("users", [user])
dg.materialize([indicator_values], resources={"mirobody": res}, instance=instance,
               tags=range_tags(d, d, user, user))
"""


def test_a_writer_killed_mid_transaction_leaves_the_tables_and_a_rerun_matches(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    database_url: str,
    sandbox: SandboxServer,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    user = make_user()
    link(user, "whoop", "ada")
    dagster_instance.add_dynamic_partitions("users", [user])
    assert _run(dagster_instance, mirobody, [user]).success
    before = _snapshot(engine, [user], mirobody)
    assert before["indicator_values"]

    blocker = engine.connect()
    tx = blocker.begin()
    # The writer deletes and re-inserts indicator_values, then blocks on the quarantine table.
    blocker.execute(text("LOCK TABLE quarantined_values IN ACCESS EXCLUSIVE MODE"))
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_WRITER,
            user,
            DAY.isoformat(),
            database_url,
            mirobody.data_dir or "",
            sandbox.base_url,
            KEYS,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def blocked_writer() -> int | None:
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else ""
        with engine.connect() as c:
            return (
                c.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query ILIKE '%quarantined_values%'"
                    )
                )
                .scalars()
                .first()
            )

    def backend_gone(pid: int) -> bool:
        with engine.connect() as c:
            return not c.execute(
                text("SELECT 1 FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
            ).first()

    try:
        writer_pid = wait_until(blocked_writer, "the writer to reach the quarantine write", 60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        tx.rollback()
        blocker.close()
    # The server notices the dead client and ends its backend, rolling its transaction back.
    wait_until(lambda: backend_gone(writer_pid), "the killed writer's backend to end")
    assert _snapshot(engine, [user], mirobody) == before
    assert _run(dagster_instance, mirobody, [user]).success
    assert _snapshot(engine, [user], mirobody) == before
    assert set(before) == set(SNAPSHOT)


def test_a_token_expiring_mid_pull_is_refreshed_and_the_rotated_token_is_stored(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    sandbox: SandboxServer,
    repo: ConnectionRepository,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    user = make_user()
    link(user, "whoop", "ben")
    dagster_instance.add_dynamic_partitions("users", [user])
    (before,) = repo.active("whoop", [user])
    sandbox.cloud["whoop"].expire_after = 2  # the third data request meets an expired token
    assert _run(dagster_instance, mirobody, [user]).success
    (after,) = repo.active("whoop", [user])
    assert after.tokens.refresh_token != before.tokens.refresh_token
    assert after.tokens.access_token != before.tokens.access_token
    with engine.connect() as c:
        stored = c.execute(
            text("SELECT refresh_token_ct FROM provider_connections WHERE id = :i"), {"i": after.id}
        ).scalar_one()
    assert after.tokens.refresh_token.encode() not in bytes(stored)  # ciphertext only
    # the spent refresh token is gone for good; the stored one keeps working
    assert _run(dagster_instance, mirobody, [user]).success
    assert _snapshot(engine, [user], mirobody)["indicator_values"]


def test_malformed_json_is_retried_into_the_same_rows(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    sandbox: SandboxServer,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    calm, garbled = make_user(), make_user()
    link(calm, "whoop", "ben")
    link(garbled, "whoop", "ben")
    dagster_instance.add_dynamic_partitions("users", [calm, garbled])
    assert _run(dagster_instance, mirobody, [calm]).success
    sandbox.cloud["whoop"].garble_next = 2
    assert _run(dagster_instance, mirobody, [garbled]).success
    assert sandbox.cloud["whoop"].garble_next == 0
    snap = _snapshot(engine, [calm, garbled], mirobody)
    values = {
        u: [r[1:-1] for r in snap["indicator_values"] if r[0] == u] for u in (calm, garbled)
    }  # all but the vendor's record ids (another account)
    assert values[calm] and values[calm] == values[garbled]


def test_a_vendor_answering_only_garbage_fails_that_user_and_keeps_the_others(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    sandbox: SandboxServer,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    users = [make_user(), make_user()]
    link(users[0], "whoop", "ada")
    link(users[1], "oura", "ada")
    dagster_instance.add_dynamic_partitions("users", users)
    sandbox.cloud["whoop"].garble_next = 10_000
    result = _run(dagster_instance, mirobody, users)
    assert result.success
    ((provider, status, *_, cause),) = _retry_requests(engine, users[0])
    assert (provider, status) == ("whoop", "pending") and "malformed JSON" in str(cause)
    with engine.connect() as c:
        pulled = dict(
            c.execute(
                text(
                    "SELECT user_id::text, count(*) FROM raw_records "
                    "WHERE user_id = ANY(CAST(:u AS uuid[])) GROUP BY 1"
                ),
                {"u": users},
            ).all()
        )
    assert users[1] in pulled and users[0] not in pulled  # Oura's records were stored


def test_retries_give_up_after_max_attempts_and_keep_the_cause(
    engine: Engine,
    make_user: Callable[[], str],
) -> None:
    from mirobody_assets.ingest import PartitionFailure
    from mirobody_assets.storage.sync_requests import MAX_RETRY_ATTEMPTS as MAX_ATTEMPTS
    from mirobody_assets.storage.sync_requests import request_retries

    user = make_user()
    failure = PartitionFailure(user, "polar", (DAY.isoformat(),), "VendorHTTPError: polar: 503")
    reauth = PartitionFailure(user, "polar", (DAY.isoformat(),), "revoked", needs_reauth=True)
    for _ in range(MAX_ATTEMPTS + 1):
        with engine.begin() as conn:
            request_retries(conn, [failure, reauth])
    statuses = [r[1] for r in _retry_requests(engine, user)]
    assert statuses == ["pending"] * MAX_ATTEMPTS + ["failed"]
    assert all("503" in str(r[4]) for r in _retry_requests(engine, user))
