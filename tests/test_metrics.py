"""Central's Prometheus metrics, scraped from a running worker: messages applied, request
latency, devices by state, each device's outbox depth and the alarms raised; the endpoint is
off unless configured, and gone when the worker stops."""

import urllib.error
import urllib.request

import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from central.config import MetricsSection
from central.service import CentralService
from edge_common.protocol.doors import ACCESS_DECISION, DOOR_ALARM, AccessDecision, DoorAlarm
from provisioning.broker import free_port
from tests.harness import central_config, wait_for

pytestmark = pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)

def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample the endpoint serves, by (name, sorted labels)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as answer:
        text = answer.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(port: int, name: str, **labels: str) -> float | None:
    """One sample's value, or None when the endpoint has none with these labels."""
    return scrape(port).get((name, tuple(sorted(labels.items()))))


def test_a_worker_shows_what_it_applied_answered_and_sees_of_the_fleet(net):
    port = free_port()
    cfg = msgspec.structs.replace(central_config(net.broker, net.store),
                                  metrics=MetricsSection(port=port))
    net.central = CentralService(cfg)
    net.central.start()
    assert net.central.metrics_port == port
    lock = net.device("lock-1", datasets=["allowlist"])
    net.device("lock-2")                      # enrolled, never seen
    lock.start()
    try:
        wait_for(lambda: lock.synced_at("allowlist"), what="the list pulled (a request)")
        for _ in range(5):
            lock.emit(ACCESS_DECISION, AccessDecision(door="d1", card="a" * 64, result="granted"))
        lock.emit(DOOR_ALARM, DoorAlarm(door="d1", alarm="forced", active=True))
        wait_for(lambda: lock.health().outbox_depth == 0, what="events applied")
        wait_for(lambda: (sample(port, "libedge_messages_total", worker="central-1",
                                 outcome="applied") or 0) >= 6, what="six events counted")
        assert (sample(port, "libedge_request_seconds_count", worker="central-1") or 0) >= 1
        assert sample(port, "libedge_alarms_open", site=net.site, alarm="forced") == 1
        assert sample(port, "libedge_devices", site=net.site, kind="lockd",
                      state="never_seen") == 1
        wait_for(lambda: sample(port, "libedge_devices", site=net.site, kind="lockd",
                                state="online") == 1, what="lock-1 online")
        assert sample(port, "libedge_device_outbox_depth", site=net.site, dev="lock-1") == 0
    finally:
        lock.stop()
    net.central.stop()
    net.central = None
    with pytest.raises(urllib.error.URLError):
        scrape(port)


def test_without_a_metrics_port_nothing_listens(net):
    central = net.start_central()
    assert central.metrics_port is None
