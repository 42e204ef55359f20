"""Prometheus metrics of one API process: its own registry, so several apps never collide.

Request latency is observed by the middleware; provider and pipeline figures that live in the
database (connections by status, sync requests by status, table sizes) are read when /metrics
is scraped. With several workers, set PROMETHEUS_MULTIPROC_DIR (prometheus-client's
multiprocess mode) so that a scrape sums every worker.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    """The counters and histograms the API updates as it serves."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_latency = Histogram(
            "mirobody_http_request_duration_seconds",
            "Request latency by route template.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.provider_pulls = Counter(
            "mirobody_provider_pulls_total",
            "Provider calls made by the API (link, revoke, webhook) by outcome.",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.token_refreshes = Counter(
            "mirobody_token_refreshes_total",
            "Vendor token refreshes (rotations) by provider.",
            ["provider"],
            registry=self.registry,
        )
        self.rows_processed = Counter(
            "mirobody_rows_processed_total",
            "Rows read or written by the API by operation.",
            ["operation"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "mirobody_rate_limited_total",
            "Requests refused with 429 by limit scope.",
            ["scope"],
            registry=self.registry,
        )

        self._database = _DatabaseCollector()
        self.registry.register(self._database)

    def render(self) -> bytes:
        """The exposition text. Under several uvicorn workers with PROMETHEUS_MULTIPROC_DIR
        set, every worker's counters are summed from that folder, not just this worker's."""
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return bytes(generate_latest(self.registry))
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(self._database)
        return bytes(generate_latest(registry))

    def watch_database(self, engine: Engine | None) -> None:
        """Report figures from this engine's database at scrape time (None: stop)."""
        self._database.engine = engine


class _DatabaseCollector(Collector):
    """Pipeline figures from the serving tables, computed at scrape time."""

    def __init__(self) -> None:
        self.engine: Engine | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.engine is None:
            return
        connections = GaugeMetricFamily(
            "mirobody_provider_connections",
            "Linked accounts by provider and status.",
            labels=["provider", "status"],
        )
        errors = GaugeMetricFamily(
            "mirobody_provider_connections_failing",
            "Connections whose last pull ended in an error, by provider.",
            labels=["provider"],
        )
        requests = GaugeMetricFamily(
            "mirobody_sync_requests", "Sync requests by kind and status.", labels=["kind", "status"]
        )
        rows = GaugeMetricFamily(
            "mirobody_table_rows_estimate",
            "Rows the pipeline has written, per serving table (planner estimate, cheap).",
            labels=["table"],
        )
        try:
            with self.engine.connect() as conn:
                for provider, status, n, failing in conn.execute(
                    text(
                        "SELECT provider, status, count(*), count(*) FILTER (WHERE last_error "
                        "IS NOT NULL) FROM provider_connections GROUP BY provider, status"
                    )
                ):
                    connections.add_metric([provider, status], n)
                    errors.add_metric([provider], failing)
                for kind, status, n in conn.execute(
                    text("SELECT kind, status, count(*) FROM sync_requests GROUP BY kind, status")
                ):
                    requests.add_metric([kind, status], n)
                for table, n in conn.execute(
                    text(
                        "SELECT relname, greatest(reltuples, 0) FROM pg_class WHERE relname IN "
                        "('raw_records', 'daily_summary', "
                        "'quarantined_values') AND relkind = 'r'"
                    )
                ):
                    rows.add_metric([table], n)
        except SQLAlchemyError as exc:
            log.warning("metrics: database figures unavailable (%s)", type(exc).__name__)
            return
        yield connections
        yield errors
        yield requests
        yield rows
