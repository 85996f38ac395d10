"""The return box: item identified → bin chosen (online vs the raw MQTT round trip on the same
broker, and offline), 1,000 items through the simulated belt with the link cut for half of
them (lost, checked in twice, dated when they went in), and the daemon's RSS without a display.
"""

import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from bench.bench_rpc import raw_round_trips
from bench.bench_rss import bare_paho_rss, rss_mb
from bench.common import median, network, percentile, report, wait_for
from central.circulation import loans
from central.circulation.store import Store
from edge_common.protocol.returns import HELD_ITEMS
from edge_common.readers import CardRead
from returnbox.box import ReturnBox
from returnbox.events import ItemRead
from returnbox.logdisplay import LogDisplay
from returnbox.sorting import choose_bin
from tests.boxes import BINS, config, items, write_config
from tests.circ import card_holder, copy, install
from tests.proxy import Proxy


def lend(net, count: int) -> list[str]:
    """The box's branch with `count` copies on loan, five to a patron, ten to a title (each
    return brings its title's rows in the box lists up to date); their barcodes."""
    s = install(Store(net.db), branches=[(net.site, "Main Library")])
    barcodes = [f"R{i:05d}" for i in range(count)]
    for n, barcode in enumerate(barcodes):
        if n % 5 == 0:
            pid = card_holder(s, f"04{n:08X}", f"Reader {n}", net.site)
        copy(s, barcode, f"Title {barcode[:-1]}", net.site)
        loans.checkout(s, pid, barcode, net.site)
    return barcodes


def decide_times(box: ReturnBox, barcodes: list[str], online: bool) -> list[float]:
    """Seconds from an identified item to its bin chosen, as the coordinator does it: central's
    answer (or the datasets) and the bin rules."""
    times = []
    for barcode in barcodes:
        item = box.parts.ledger.new(1, "identified", barcode)
        start = time.perf_counter()
        if online:
            answer = box.parts.checkins.online(item)
            assert answer is not None and answer.facts is not None, barcode
            facts = answer.facts
        else:
            facts = box.parts.checkins.offline(barcode)
        choose_bin(box.cfg.sorting, facts, box.parts.full)
        times.append(time.perf_counter() - start)
    return times


def decision(quick: bool) -> tuple[float, float, float]:
    """(online p99, raw MQTT p99, offline p99) in ms."""
    count = 200 if quick else 1000
    with network() as net:
        barcodes = lend(net, count + 20)
        net.start_central()
        box = ReturnBox(config(net, net.root), MockFactory(), LogDisplay())
        box.runtime.start()
        try:
            wait_for(lambda: box.runtime.central_up)
            decide_times(box, barcodes[:20], online=True)   # warm up
            online = decide_times(box, barcodes[20:], online=True)
            raw = raw_round_trips(net, count)
            offline = decide_times(box, barcodes, online=False)
            assert box.runtime.row(HELD_ITEMS, barcodes[0]) is None
        finally:
            box.stop()
    return tuple(percentile(t, 99) * 1000 for t in (online, raw, offline))  # type: ignore


def belt(count: int) -> tuple[int, int, int, int]:
    """`count` items through the simulated belt, the link cut for the middle half: (lost,
    checked in twice, offline returns not dated when they went in, offline returns)."""
    with network() as net:
        barcodes = lend(net, count)
        net.start_central()
        proxy = Proxy(net.broker.port)
        roomy = {name: 10_000 for name in BINS}
        box = ReturnBox(config(net, net.root, port=proxy.port, bins=roomy), MockFactory(),
                        LogDisplay())
        box.parts.sim.travel_time = 0.0
        box.start()
        try:
            wait_for(lambda: box.runtime.central_up)
            quarter = count // 4
            for n, barcode in enumerate(barcodes):
                if n == quarter:
                    wait_for(lambda: len(items(box)) == quarter and _settled(box), timeout=600)
                    proxy.cut("drop")
                    wait_for(lambda: not box.runtime.central_up)
                if n == 3 * quarter:
                    wait_for(lambda n=n: len(items(box)) == n and _settled(box), timeout=600)
                    proxy.restore()
                    wait_for(lambda: box.runtime.central_up)
                box.post(ItemRead(_read(barcode)))
            wait_for(lambda: len(items(box)) == count and _settled(box), timeout=900)
            wait_for(lambda: box.runtime.health().outbox_depth == 0, timeout=900)
            went_in = _went_in(box)
        finally:
            box.stop()
            proxy.close()
        returned = dict(net.db.execute(
            "SELECT i.barcode, group_concat(l.returned_at, '|') FROM loans l JOIN items i"
            " ON i.id = l.item_id WHERE l.returned_at IS NOT NULL GROUP BY i.barcode"
        ).fetchall())
    arrived = {b for b, *_ in went_in}
    lost = sum(1 for b in barcodes if b not in arrived or b not in returned)
    twice = sum(1 for v in returned.values() if "|" in v)
    offline = [(b, at) for b, _, at, off in went_in if off]
    misdated = sum(1 for b, at in offline
                   if b not in returned or datetime.fromisoformat(returned[b]) != at)
    return lost, twice, misdated, len(offline)


def _read(barcode: str) -> CardRead:
    return CardRead(barcode, "barcode", "bench", time.monotonic())


def _settled(box: ReturnBox) -> bool:
    return all(r[1] in ("arrived", "rejected", "jammed") for r in items(box))


def _went_in(box: ReturnBox) -> list[tuple[str, str, datetime, int]]:
    with closing(sqlite3.connect(f"{box.cfg.device.data_dir}/returnbox.db")) as db:
        return [(b, s, datetime.fromisoformat(at), off) for b, s, at, off in db.execute(
            "SELECT barcode, state, at, offline FROM items WHERE state = 'arrived'")]


def daemon_rss() -> float:
    """RSS in MB of `python -m returnbox.daemon` (no display) connected and synced."""
    with network() as net:
        lend(net, 10)
        net.start_central()
        cfg = config(net, net.root)
        path = write_config(cfg, Path(net.root) / "returnbox.toml")
        log = Path(net.root) / "returnbox.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen([sys.executable, "-m", "returnbox.daemon", "--config",
                                     str(path)], stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: b"central is serving" in log.read_bytes())
            time.sleep(3)
            return rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)



def main(quick: bool = False) -> None:
    """Each figure beside its limit; the decision times are medians over several runs."""
    runs = [decision(quick) for _ in range(1 if quick else 3)]
    online, raw, offline = (median([r[i] for r in runs]) for i in range(3))
    limit = 1.5 * raw + 5
    report("return box: identified → bin, online p99", online, "ms", limit,
           f"limit: 1.5 × raw MQTT 5 p99 ({raw:.2f} ms) + 5 ms", "≤ 1×", online <= limit)
    report("return box: identified → bin, offline p99", offline, "ms", None, "-", "≤ 5 ms",
           offline <= 5)
    count = 200 if quick else 1000
    lost, twice, misdated, queued = belt(count)
    report(f"return box: {count} items, link cut for half: lost + checked in twice", lost + twice,
           "items", None, f"{queued} returned offline", "0", lost + twice == 0)
    report("return box: offline returns not dated when they went in", misdated, "items", None,
           f"{queued} returned offline", "0", misdated == 0 and queued > 0)
    ours = median([daemon_rss() for _ in range(1 if quick else 3)])
    report("return box daemon RSS (no display)", ours, "MB", bare_paho_rss(),
           "bare python + paho import", "≤ 60 MB", ours <= 60)
    print(f"measured {datetime.now(UTC):%H:%M} UTC", flush=True)


if __name__ == "__main__":
    main("--quick" in sys.argv)
