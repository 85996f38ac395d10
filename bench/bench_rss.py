"""Idle device process memory: a synced, connected device runtime vs a bare paho import."""

import subprocess
import sys
import time

from bench.common import median, network, report, wait_for
from central import fleet
from central.circulation import allowlist
from tests.harness import device_json

IDLE = """
import sys, time, json, msgspec
from edge_common.config import DeviceSection, MqttConfig, OutboxConfig
from edge_common.runtime import DeviceRuntime
raw = json.load(open(sys.argv[1]))
rt = DeviceRuntime(msgspec.convert(raw["device"], DeviceSection),
                   msgspec.convert(raw["mqtt"], MqttConfig),
                   msgspec.convert(raw["outbox"], OutboxConfig), version="bench",
                   datasets=["allowlist", "calendar"])
rt.start()
while not rt.synced_at("allowlist"):
    time.sleep(0.05)
print("synced", flush=True)
time.sleep(3600)
"""


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB, from /proc."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def card_uid(n: int) -> str:
    """The UID of the n-th bench card."""
    return f"04{n:08X}"


def add_cards(db, site: str, cards: int) -> None:
    """Bulk-insert `cards` adult patrons with one card each and publish them to the site."""
    with db.transaction():
        db.conn.executemany("INSERT INTO patrons (id, category) VALUES (?, 'adult')",
                            [(i,) for i in range(cards)])
        db.conn.executemany("INSERT INTO cards VALUES (?, ?, 'city', 1)",
                            [(card_uid(i), i) for i in range(cards)])
        allowlist.publish_site(db, site)


def bare_paho_rss() -> float:
    """RSS in MB of a Python process that only imported paho: the floor of any device."""
    bare = subprocess.Popen([sys.executable, "-c",
                             "import paho.mqtt.client, time; time.sleep(60)"])
    time.sleep(1.5)
    ref = rss_mb(bare.pid)
    bare.kill()
    bare.wait()
    return ref


def measure(cards: int) -> tuple[float, float]:
    """(idle device RSS, bare `import paho.mqtt.client` RSS) in MB."""
    with network() as net:
        net.start_central()
        add_cards(net.db, net.site, cards)
        fleet.enrol(net.db, "bench-1", net.site, "lockd")
        cfg = device_json(net.broker, net.root, "bench-1", net.site, net.card_key)
        dev = subprocess.Popen([sys.executable, "-c", IDLE, str(cfg)], stdout=subprocess.PIPE,
                               text=True)
        assert dev.stdout.readline().strip() == "synced"
        time.sleep(3)
        ours = rss_mb(dev.pid)
        dev.kill()
        wait_for(lambda: dev.poll() is not None)
        return ours, bare_paho_rss()


def main(quick: bool = False) -> None:
    """Median of several runs with a 10,000-card allow-list."""
    results = [measure(10_000) for _ in range(1 if quick else 3)]
    ours, ref = median([r[0] for r in results]), median([r[1] for r in results])
    report("idle device RSS (10,000-card list synced)", ours, "MB", ref,
           "bare python + paho import", "≤ 40 MB", ours <= 40)


if __name__ == "__main__":
    main("--quick" in sys.argv)
