"""lockd with a 1,000,000-card allow-list: the local decision, card read → relay, daemon RSS,
block at central → refused at the door, and the full list sync to a new door."""

import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from functools import partial
from pathlib import Path

import msgspec
from gpiozero.pins.mock import MockFactory, MockPin

from bench.bench_rpc import raw_clients, raw_round_trips
from bench.bench_rss import add_cards, bare_paho_rss, card_uid, rss_mb
from bench.common import (
    cached_db,
    central_process,
    copy_db,
    data_builder,
    median,
    percentile,
    report,
    wait_for,
)
from central import datasets, fleet
from central import migrations as central_migrations
from central.circulation import allowlist, patrons, sites
from central.circulation.store import Store
from central.store import open_store
from edge_common import replica
from edge_common.cardid import card_hash
from edge_common.protocol import packed
from edge_common.protocol.datasets import ALLOWLIST as DATASET
from edge_common.protocol.datasets import JSON_PAGE
from edge_common.protocol.packed import short_key
from edge_common.readers import CardRead, send_sim_tap
from lockd.config import LockdConfig
from lockd.daemon import LockDaemon
from tests.harness import Network, device_parts

SITE, DEV, DOOR, RELAY = "main", "lock-1", "wc", 17
TAP_EVERY = 0.005


class StampedPin(MockPin):
    """A mock pin that notes when it was last driven high."""

    def __init__(self, factory, info):
        self.high = threading.Event()
        self.high_at = 0.0
        super().__init__(factory, info)

    def _change_state(self, value):
        changed = super()._change_state(value)
        if changed and value:
            self.high_at = time.perf_counter()
            self.high.set()
        return changed


@data_builder(cards=50)
def build_allowlist(path: Path, cards: int) -> None:
    """Central with `cards` patrons, one card each, published to the site's allow-list."""
    db = open_store(str(path))
    sites.open_site(db, SITE)
    add_cards(db, SITE, cards)
    # Those deltas went out before any door existed: a new door pulls the list.
    db.conn.execute("DELETE FROM dataset_deltas")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()


def allowlist_db(cards: int) -> Path:
    """The allow-list store for `cards`, made once and reused by later runs."""
    return cached_db(f"allowlist-{cards}", partial(build_allowlist, cards=cards), allowlist,
                     central_migrations)


def lock_config(net: Network) -> dict:
    """One toilet door on a simulated reader and mock pins, for the enrolled lock."""
    fleet.enrol(net.db, DEV, net.site, "lockd")
    device, mqtt, _ = device_parts(net.broker, net.root, DEV, net.site, "lockd", net.card_key)
    return {"device": msgspec.to_builtins(device), "mqtt": msgspec.to_builtins(mqtt),
            "gpio": {"pin_factory": "mock"},
            "doors": [{"id": DOOR, "kind": "toilet", "relay_pin": RELAY, "unlock_seconds": 0.02,
                       "reader": {"kind": "sim", "socket": str(net.root / "door.sock")}}]}


def toml(raw: dict) -> str:
    """A config dict as TOML: tables, arrays of tables, and inline tables inside them."""

    def value(v) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return json.dumps(v)

    lines = []
    for name, section in raw.items():
        for table in section if isinstance(section, list) else [section]:
            lines.append(f"[[{name}]]" if isinstance(section, list) else f"[{name}]")
            lines += [f"{k} = {value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines) + "\n"


def replica_version(path: Path) -> int:
    """The allow-list version a device's replica file holds (0 while it has none)."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT version FROM replica_meta WHERE dataset = ?",
                               [DATASET]).fetchone()
    except sqlite3.Error:
        return 0
    return row[0] if row else 0


def new_door(net: Network, raw: dict) -> tuple[float, float]:
    """`lockd` as its own process on an empty data dir: (seconds until synced, RSS in MB)."""
    config = net.root / "lockd.toml"
    config.write_text(toml(raw))
    head = datasets.head(net.db, net.site, DATASET)
    replica = Path(raw["device"]["data_dir"]) / "replica.db"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "lockd.daemon", "--config", str(config)],
                            stderr=open(net.root / "lockd.log", "wb"))
    try:
        wait_for(lambda: proc.poll() is not None or replica_version(replica) == head,
                 timeout=600, interval=0.05, what="new door synced")
        took = time.perf_counter() - started
        assert proc.poll() is None, f"lockd exited; see {net.root / 'lockd.log'}"
        time.sleep(2)
        return took, rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def snapshot_pages(net: Network, format: int = packed.FORMAT) -> list[int]:
    """The size in bytes of every page a new door pulls (`format` 1: in the JSON form)."""
    sizes, since, after = [], 0, ""
    limit = packed.PAGE if format == packed.FORMAT else JSON_PAGE
    while True:
        page = datasets.pull(net.db, net.site, DATASET, since, after, limit, format)
        sizes.append(len(msgspec.json.encode(page)))
        if not page.next:
            return sizes
        since, after = page.next.since, page.next.after


def raw_transfer(net: Network, sizes: list[int]) -> float:
    """Seconds to carry messages of these sizes between two plain paho clients (QoS 1)."""
    got = threading.Semaphore(0)
    pub, sub = raw_clients(net, "raw-pub", "raw-sub")
    sub.on_message = lambda c, u, msg: got.release()
    sub.subscribe("lib/v1/bench/bulk", qos=1)
    time.sleep(0.5)
    started = time.perf_counter()
    for size in sizes:
        pub.publish("lib/v1/bench/bulk", bytes(size), qos=1)
    for _ in sizes:
        assert got.acquire(timeout=60), "raw transfer stalled"
    took = time.perf_counter() - started
    for c in (pub, sub):
        c.loop_stop()
        c.disconnect()
    return took


def decisions(daemon: LockDaemon, uids: list[str], reference: list[str]) -> tuple[list, list]:
    """Times of `LockDaemon.verdict` (card hash, list lookup, rules) on `uids`, and of the
    replica's bare lookup query (a primary-key search and its value's) in the same file for
    the hashes of `reference`."""
    hashes = [short_key(DATASET, card_hash(daemon.key, uid)) for uid in reference]
    bare, lookup = [], replica.lookup_sql(DATASET)
    with closing(sqlite3.connect(Path(daemon.cfg.device.data_dir) / "replica.db")) as conn:
        for h in hashes:
            start = time.perf_counter()
            conn.execute(lookup, (h,)).fetchone()
            bare.append(time.perf_counter() - start)
    door, ours = daemon.doors[DOOR], []
    for uid in uids:
        read = CardRead(uid, "uid", "bench", time.monotonic())
        start = time.perf_counter()
        _, result = daemon.verdict(door, read)
        ours.append(time.perf_counter() - start)
        assert result == "granted", result
    return ours, bare


def taps(relay: StampedPin, socket: str, uids: list[str]) -> list[float]:
    """Card presented at the simulated reader → relay pin high, for each card."""
    times = []
    for uid in uids:
        relay.high.clear()
        sent = time.perf_counter()
        send_sim_tap(socket, uid)
        assert relay.high.wait(5), "relay never energised"
        times.append(relay.high_at - sent)
        wait_for(lambda: relay.state == 0, what="relay released")
        time.sleep(random.uniform(0.01, 0.03))
    return times


def blocks(net: Network, daemon: LockDaemon, socket: str, pids: list[int]) -> list[float]:
    """Block a patron with central's API (as `libedge admin patron block` does), then tap the
    card every TAP_EVERY seconds until the door refuses it: seconds from block to refusal."""
    store, door, times = Store(net.db), daemon.doors[DOOR], []
    for pid in pids:
        uid = card_uid(pid)
        send_sim_tap(socket, uid)
        wait_for(lambda: door.last_result == "granted", what="card admitted before the block")
        started = time.perf_counter()
        patrons.set_blocked(store, pid, True, "bench")
        while door.last_result != "patron_blocked":
            assert time.perf_counter() - started < 30, "block never reached the door"
            send_sim_tap(socket, uid)
            time.sleep(TAP_EVERY)
        times.append(time.perf_counter() - started)
    return times


def at_the_door(net: Network, raw: dict, cards: int, counts: dict) -> dict:
    """Decisions, taps and blocks on lockd in this process, on the synced data dir."""
    rng = random.Random()
    factory = MockFactory(pin_class=StampedPin)
    daemon = LockDaemon(msgspec.convert(raw, LockdConfig), factory)
    relay, socket = factory.pin(RELAY), raw["doors"][0]["reader"]["socket"]
    daemon.start()
    try:
        wait_for(lambda: daemon.runtime.central_up, timeout=30, what="lock online")
        sample = [card_uid(n) for n in rng.sample(range(cards), 2 * counts["decisions"])]
        out = dict(zip(("decision", "bare"), decisions(daemon, sample[::2], sample[1::2]),
                       strict=True))
        out["tap"] = taps(relay, socket, [card_uid(n) for n in
                                          rng.sample(range(cards), counts["taps"])])
        out["block"] = blocks(net, daemon, socket, rng.sample(range(cards), counts["blocks"]))
    finally:
        daemon.stop()
    return out


def run(src: Path, cards: int, counts: dict) -> dict:
    """One run on a fresh broker and copy of central: every figure of this benchmark."""
    with tempfile.TemporaryDirectory() as tmp:
        copy_db(src, Path(tmp))
        net = Network(Path(tmp), site=SITE)
        try:
            with central_process(net):
                raw = lock_config(net)
                out = {"pages": snapshot_pages(net), "json_pages": snapshot_pages(net, 1)}
                out["sync"], out["rss"] = new_door(net, raw)
                out.update(at_the_door(net, raw, cards, counts))
                out["rtt"] = raw_round_trips(net, counts["rtt"])
                out["raw_sync"] = raw_transfer(net, out["pages"])
        finally:
            net.close()
    return out


def main(quick: bool = False) -> None:
    """Medians over several runs, each on its own broker and copy of central."""
    cards, repeats = (10_000, 1) if quick else (1_000_000, 3)
    counts = ({"decisions": 2000, "taps": 50, "blocks": 5, "rtt": 200} if quick else
              {"decisions": 20_000, "taps": 300, "blocks": 20, "rtt": 1000})
    src = allowlist_db(cards)
    runs = []
    for n in range(repeats):
        print(f"run {n + 1}/{repeats}, load average {os.getloadavg()[0]:.1f}", flush=True)
        runs.append(run(src, cards, counts))
    label = f"{cards:,}-card list"

    def med(key, p=None, scale=1000):
        return median([percentile(r[key], p) if p else r[key] for r in runs]) * scale

    def latency(name, key, ref, ref_name, unit, scale, limit, target):
        for p in (50, 99):
            ours = med(key, p, scale)
            report(f"{name} p{p}", ours, unit, med(ref, p, scale), f"{ref_name} p{p}",
                   target if p == 99 else "-", p == 50 or ours <= limit)

    latency(f"lockd decision ({label})", "decision", "bare", "bare SQLite primary-key lookup",
            "µs", 1e6, 1000, "≤ 1 ms")
    latency("card read → relay energised", "tap", "decision", "local decision", "ms", 1000, 5,
            "≤ 5 ms")
    rss = med("rss", scale=1)
    report(f"lockd RSS ({label} synced)", rss, "MB", bare_paho_rss(),
           "bare python + paho import", "≤ 50 MB", rss <= 50)
    latency("block at central → refused at the door", "block", "rtt", "raw MQTT 5 round trip",
            "ms", 1000, 1000, "≤ 1 s")
    pages = runs[0]["pages"]
    sync = med("sync", scale=1)
    report(f"full list sync to a new door ({label})", sync, "s", med("raw_sync", scale=1),
           f"raw MQTT transfer of the {len(pages)} pages, {sum(pages) / 1e6:,.1f} MB",
           "≤ 3 s", sync <= 3)
    size, json_size = sum(pages) / 1e6, sum(runs[0]["json_pages"]) / 1e6
    report(f"the pages a new door copies ({label})", size, "MB", json_size,
           "the same list in the JSON form", "≤ 40 MB", size <= 40)


if __name__ == "__main__":
    main("--quick" in sys.argv)
