"""What a central worker shows Prometheus: the messages it applied and refused, how fast it
answered requests, and, read from the store at each scrape, the devices online, the depth of
each device's outbox and the alarms still raised."""

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from central import alarms, fleet_view
from central.database import Database, connect

# what `stats` counts, as (metric, help, labels) of one counter family per name
_COUNTED = {
    "applied": ("messages", "Device messages applied", {"outcome": "applied"}),
    "duplicates": ("messages", "Device messages applied", {"outcome": "duplicate"}),
    "invalid": ("messages", "Device messages applied", {"outcome": "invalid"}),
    "read_lane": ("requests_answered_at_once",
                  "Read-only requests answered on arrival, beside the batches", {}),
    "deltas": ("deltas_published", "Dataset deltas published to devices", {}),
    "failed_batches": ("batches_failed", "Batches that failed and will be redelivered", {}),
}


class _Store(Collector):
    """Counters from the worker's `stats`, and gauges read from the store per scrape."""

    def __init__(self, db_path: str, worker: str, stats: Mapping[str, int]) -> None:
        self._db_path = db_path
        self._worker = worker
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        """Every family, read now."""
        yield from self._counters()
        db = connect(self._db_path, read_only=True)
        try:
            yield from self._fleet(db)
        finally:
            db.close()

    def _counters(self) -> Iterator[Metric]:
        families: dict[str, CounterMetricFamily] = {}
        for key, (name, text, labels) in _COUNTED.items():
            if name not in families:
                families[name] = CounterMetricFamily(f"libedge_{name}", text,
                                                     labels=["worker", *labels])
            family = families[name]
            family.add_metric([self._worker, *labels.values()], self._stats.get(key, 0))
        yield from families.values()

    def _fleet(self, db: Database) -> Iterator[Metric]:
        views = fleet_view.devices(db)
        states = Counter((v.site, v.kind, v.state) for v in views)
        devices = GaugeMetricFamily("libedge_devices", "Enrolled devices by state",
                                    labels=["site", "kind", "state"])
        for (site, kind, state), n in sorted(states.items()):
            devices.add_metric([site, kind, state], n)
        depth = GaugeMetricFamily("libedge_device_outbox_depth",
                                  "Events waiting in a device's outbox, as it last reported",
                                  labels=["site", "dev"])
        for v in views:
            if v.status is not None and v.state != "revoked":
                depth.add_metric([v.site, v.id], v.status.outbox)
        raised = Counter((a.site, a.alarm) for a in alarms.latest(db))
        alarm = GaugeMetricFamily("libedge_alarms_open", "Alarms still raised",
                                  labels=["site", "alarm"])
        for (site, name), n in sorted(raised.items()):
            alarm.add_metric([site, name], n)
        yield from (devices, depth, alarm)


class Metrics:
    """A worker's registry: request latency observed by the worker, the rest per scrape."""

    def __init__(self, db_path: str, worker: str, stats: Mapping[str, int]) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "libedge_request_seconds", "From a device's request reaching the worker to its answer",
            ["worker"], registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)).labels(worker)
        self.registry.register(_Store(db_path, worker, stats))
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def serve(self, bind: str, port: int) -> int:
        """Answer scrapes on bind:port (0: any free port) until `close`; return the port."""
        self._server, self._thread = start_http_server(port, bind, registry=self.registry)
        return self._server.server_port

    def close(self) -> None:
        """Stop answering scrapes."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)


