"""Provisioning: enrolment end to end (and 200 in a row, with the broker's RSS), revocation
until the broker closes the connection, and a request's round trip over TLS vs plain MQTT."""

import tempfile
import threading
import time
from pathlib import Path

import msgspec
import requests

from bench.bench_rpc import central_round_trips, raw_round_trips
from bench.bench_rss import rss_mb
from bench.common import median, percentile, report, wait_for
from edge_common.config import DeviceSection, MqttConfig, OutboxConfig, load
from edge_common.runtime import DeviceRuntime
from provisioning.enrol import Enrolled, enrol
from tests.fleet import SITE, Fleet, TlsProbe


def enrolments(fleet: Fleet, count: int, prefix: str) -> tuple[list[float], list[Enrolled]]:
    """Invite and enrol `count` devices one after the other; seconds each enrolment took
    (the device's side: CA check, HTTPS redeem, files), and what each wrote."""
    times, done = [], []
    for n in range(count):
        dev = f"{prefix}-{n}"
        ticket = fleet.stack.invite(fleet.db, dev, SITE, "lockd")
        start = time.perf_counter()
        done.append(enrol(ticket, fleet.root / "devices" / dev))
        times.append(time.perf_counter() - start)
    return times, done


def ca_fetches(fleet: Fleet, count: int) -> list[float]:
    """The reference for enrolment: HTTPS GET of the CA from the same endpoint."""
    url = f"{fleet.stack.config.enrolment.url}/v1/ca.pem"
    times = []
    for _ in range(count):
        start = time.perf_counter()
        requests.get(url, verify=str(fleet.stack.ca.ca_cert), timeout=10)
        times.append(time.perf_counter() - start)
    return times


def revocations(fleet: Fleet, enrolled: list[Enrolled]) -> list[float]:
    """Seconds from asking the broker to disable a connected device until its connection is
    closed, one device at a time."""
    dynsec = fleet.stack.config.dynsec()
    times = []
    for e in enrolled:
        secret = (e.config.parent / "mqtt-password").read_text().strip()
        probe = TlsProbe(fleet, e.dev, secret)
        closed = threading.Event()
        probe.client.on_disconnect = lambda *a, closed=closed: closed.set()
        start = time.perf_counter()
        dynsec.disable(e.dev)
        closed.wait(10)
        times.append(time.perf_counter() - start)
        probe.close()
    return times


class DeviceFile(msgspec.Struct):
    """The parts of an enrolled device's config file a bare runtime needs."""

    device: DeviceSection
    mqtt: MqttConfig


def runtime(fleet: Fleet, e: Enrolled, tls: bool) -> DeviceRuntime:
    """A started device runtime with the enrolled account, over TLS or the plain listener."""
    cfg = load(e.config, DeviceFile)
    mqtt = cfg.mqtt if tls else MqttConfig(port=fleet.broker.port, username=e.dev,
                                           password_file=cfg.mqtt.password_file)
    device = msgspec.structs.replace(cfg.device, data_dir=str(fleet.root / f"rt-{e.dev}-{tls}"))
    rt = DeviceRuntime(device, mqtt, OutboxConfig(), version="bench")
    rt.start()
    wait_for(lambda: rt.central_up, what="device sees central")
    return rt


def main(quick: bool = False) -> None:
    """Enrolment p50/p99 and 200 in a row, revocation p50/p99, TLS vs plain round trips."""
    many, revoke, trips = (20, 10, 300) if quick else (200, 50, 2000)
    with tempfile.TemporaryDirectory() as tmp:
        fleet = Fleet(Path(tmp))
        try:
            rss_before = rss_mb(fleet.broker.proc.pid)
            started = time.perf_counter()
            times, enrolled = enrolments(fleet, many, "bench")
            total = time.perf_counter() - started
            rss_after = rss_mb(fleet.broker.proc.pid)
            ref = median(ca_fetches(fleet, 50))
            report("enrol a device, p50", median(times) * 1000, "ms", ref * 1000,
                   "HTTPS GET of the CA", "-", True)
            report("enrol a device, p99", percentile(times, 99) * 1000, "ms", ref * 1000,
                   "HTTPS GET of the CA", "≤ 2000 ms", percentile(times, 99) <= 2)
            report(f"enrol {many} devices in a row", total, "s", None,
                   f"broker RSS {rss_before:.1f} → {rss_after:.1f} MB", "-", True)

            raw = median(raw_round_trips(fleet, 300))
            gone = revocations(fleet, enrolled[:revoke])
            report("revocation → connection closed, p50", median(gone) * 1000, "ms",
                   raw * 1000, "raw MQTT 5 round trip p50", "-", True)
            report("revocation → connection closed, p99", percentile(gone, 99) * 1000, "ms",
                   raw * 1000, "raw MQTT 5 round trip p50", "≤ 1000 ms",
                   percentile(gone, 99) <= 1)

            fleet.start_central()
            _, (device,) = enrolments(fleet, 1, "rtt")
            results = {}
            for tls in (False, True):   # one connection per client id: one after the other
                rt = runtime(fleet, device, tls)
                try:
                    central_round_trips(fleet, rt, 50)
                    results[tls] = median(central_round_trips(fleet, rt, trips))
                finally:
                    rt.stop()
            report("request via central over TLS, p50", results[True] * 1000, "ms",
                   results[False] * 1000, "the same over plain MQTT", "≤ 1.3× plain",
                   results[True] <= 1.3 * results[False])
        finally:
            fleet.close()


if __name__ == "__main__":
    import sys

    main("--quick" in sys.argv)
