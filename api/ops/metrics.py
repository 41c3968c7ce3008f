"""Prometheus metrics for county IT, served on a separate internal bind (``MINWON_METRICS_PORT``).

Events (turns, Rasa failures, handoffs accepted or timed out) are counted where they happen;
the queue, the callback tickets, the knowledge release and the database are read from the live
services at each scrape, so the numbers are never stale and survive an api restart.
Each app has its own registry: tests build many apps in one process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.kinds import RasaFailure, TurnResultKind

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from api.admission import Admission
    from api.db import Database
    from api.handoff.desk import HandoffDesk
    from api.knowledge import Knowledge

log = logging.getLogger("minwon.metrics")
# A turn is answered in well under a second normally; RASA_TIMEOUT (3 s) is the degraded path.
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
# Residents wait minutes for an officer; the desk's queue timeout is the last bucket that matters.
WAIT_BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)


@dataclass
class DeskSnapshot:
    waiting: int
    active: int
    oldest_wait_seconds: float
    new_tickets: int


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "minwon_turns", "Resident messages handled, by who answered", ["result"], registry=self.registry
        )
        self.turn_seconds = Histogram(
            "minwon_turn_seconds", "Time to answer a resident message", buckets=TURN_BUCKETS, registry=self.registry
        )
        self.rasa_errors = Counter(
            "minwon_rasa_errors", "Rasa calls that failed, by kind (timeout included)", ["kind"], registry=self.registry
        )
        self.handoffs = Counter(
            "minwon_handoffs", "Handoff requests made, accepted and timed out", ["event"], registry=self.registry
        )
        self.handoff_wait = Histogram(
            "minwon_handoff_wait_seconds",
            "From a resident's request to an officer accepting it",
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        for result in TurnResultKind:
            self.turns.labels(str(result))
        for failure in RasaFailure:
            self.rasa_errors.labels(str(failure))
        for event in ("requested", "accepted", "timed_out"):
            self.handoffs.labels(event)

    def turn(self, result: TurnResultKind, seconds: float) -> None:
        self.turns.labels(str(result)).inc()
        self.turn_seconds.observe(seconds)

    def rasa_failed(self, kind: RasaFailure) -> None:
        self.rasa_errors.labels(str(kind)).inc()

    def handoff(self, event: str, count: int = 1) -> None:
        self.handoffs.labels(event).inc(count)

    def accepted(self, waited_seconds: float) -> None:
        self.handoff("accepted")
        self.handoff_wait.observe(max(0.0, waited_seconds))

    def watch(self, desk: HandoffDesk, knowledge: Knowledge, db: Database, admission: Admission | None = None) -> None:
        self.registry.register(LiveState(desk, knowledge, db, admission))

    def serve(self, host: str, port: int) -> WSGIServer:
        """Start the scrape endpoint (``/metrics``) in a thread; the caller shuts it down."""
        try:
            server, _ = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise RuntimeError(f"MINWON_METRICS_PORT {port} on {host} cannot be used: {exc}") from exc
        log.info("metrics on http://%s:%s/metrics", host, port)
        return server


class LiveState(Collector):
    """Read at every scrape: queue, tickets, knowledge release, database reachability."""

    def __init__(self, desk: HandoffDesk, knowledge: Knowledge, db: Database, admission: Admission | None) -> None:
        self.desk, self.knowledge, self.db, self.admission = desk, knowledge, db, admission

    def collect(self) -> Iterator[Metric]:
        if self.admission is not None:
            queue = self.admission.snapshot()
            yield GaugeMetricFamily("minwon_rasa_active", "Turns with Rasa now (admission control)", queue.active)
            yield GaugeMetricFamily("minwon_rasa_queue", "Turns waiting for a place with Rasa", queue.waiting)
            yield GaugeMetricFamily(
                "minwon_rasa_seconds_per_turn", "Smoothed time Rasa takes per turn", queue.seconds_per_turn
            )
        up = 1.0
        try:
            snapshot = self.desk.snapshot()
        except Exception:
            log.exception("metrics: database unreachable")
            up = 0.0
        else:
            yield GaugeMetricFamily("minwon_handoffs_waiting", "Residents waiting for an officer", snapshot.waiting)
            yield GaugeMetricFamily("minwon_handoffs_active", "Conversations an officer owns now", snapshot.active)
            yield GaugeMetricFamily(
                "minwon_handoff_oldest_wait_seconds",
                "How long the longest-waiting resident has waited (0: nobody waits)",
                snapshot.oldest_wait_seconds,
            )
            yield GaugeMetricFamily(
                "minwon_callback_tickets_new", "Callback tickets not yet taken", snapshot.new_tickets
            )
        yield GaugeMetricFamily("minwon_database_up", "1 if the database answered this scrape", up)
        loaded = self.knowledge.current() is not None
        yield GaugeMetricFamily("minwon_knowledge_loaded", "1 if a knowledge release is being served", float(loaded))
        info = self.knowledge.info or {}
        if loaded:
            release = self.knowledge.release_id
            yield GaugeMetricFamily(
                "minwon_knowledge_release", "Id of the knowledge release served (kb_releases.id)", float(release or 0)
            )
            yield GaugeMetricFamily(
                "minwon_knowledge_entries", "FAQ entries in the release served", float(info.get("entries", 0))
            )
            yield GaugeMetricFamily(
                "minwon_knowledge_release_loaded_timestamp_seconds",
                "When this process started serving the release (Unix time)",
                self.knowledge.swapped_at or time.time(),
            )
