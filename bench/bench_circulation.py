"""Circulation on the generated network (1M items, 200k patrons): checkout, return and account
summary latency in process and through the broker, the 500-loan patron, checkouts/s."""

import random
import sqlite3
import tempfile
import time
from functools import partial
from pathlib import Path

from bench.bench_rpc import raw_round_trips
from bench.common import cached_db, copy_db, data_builder, median, percentile, report, wait_for
from central import fleet
from central import migrations as central_migrations
from central.circulation import (  # noqa: F401
    audit,
    device_api,
    loans,
    migrations,
    patrons,
    sample,
    sites,
    summary,
)
from central.circulation.store import Store
from central.ingest import Applier, Message
from central.store import open_store
from edge_common import envelope
from edge_common.cardid import card_hash
from edge_common.protocol import circulation as wire
from tests.harness import Network


@data_builder(scale=0.0005)
def build_network(path: Path, scale: float, seed: int = 1) -> None:
    """The generated network at `scale` (1: 30 branches, 200,000 patrons, 1,000,000 items)."""
    s = Store(open_store(str(path)))
    made = sample.generate(s, branches=max(2, round(30 * scale ** 0.5)),
                           patrons=int(200_000 * scale), items=int(1_000_000 * scale),
                           seed=seed)
    s.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.db.close()
    print(f"generated {made}", flush=True)


def network_db(scale: float, seed: int = 1) -> Path:
    """The generated network, made once per scale and seed and reused by later runs."""
    return cached_db(f"network-{scale}-{seed}", partial(build_network, scale=scale, seed=seed),
                     sample, migrations, central_migrations)


def _pairs(s: Store, count: int, rng: random.Random) -> list[tuple[int, str, str]]:
    """(patron, barcode, branch): free books and members who may borrow them."""
    today = s.now().date().isoformat()
    items = s.db.execute("SELECT barcode, home_branch FROM items WHERE status = 'available'"
                           " AND category = 'book' ORDER BY random() LIMIT ?",
                           [count]).fetchall()
    people = [p for (p,) in s.db.execute(
        "SELECT id FROM patrons p WHERE status = 'active' AND NOT blocked AND category = 'adult'"
        " AND valid_until > ? AND NOT EXISTS (SELECT 1 FROM debts d WHERE d.patron_id = p.id)"
        " ORDER BY random() LIMIT ?", [today, count])]
    return [(rng.choice(people), b, br) for b, br in items]


def _timed(fn, args_list) -> list[float]:
    times = []
    for args in args_list:
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return times


def raw_reference(path: Path, count: int) -> tuple[list[float], float]:
    """Latency of a primary-key SELECT plus an INSERT, and raw single-row commits/s."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS raw_bench (item INTEGER, patron INTEGER, at TEXT)")
    ids = [r[0] for r in conn.execute("SELECT barcode FROM items ORDER BY random() LIMIT ?",
                                      [count])]

    def one(barcode):
        conn.execute("BEGIN IMMEDIATE")
        item = conn.execute("SELECT id FROM items WHERE barcode = ?", [barcode]).fetchone()[0]
        conn.execute("INSERT INTO raw_bench VALUES (?, 1, 'x')", [item])
        conn.execute("COMMIT")
    times = _timed(one, [(b,) for b in ids])
    rate = len(times) / sum(times)
    conn.close()
    return times, rate


def heavy_patron(s: Store) -> int:
    """A patron with 500 loans and 100 holds."""
    pid = patrons.add_patron(s, "Heavy", "staff", branch=s.scalar("SELECT id FROM branches"
                                                                  " ORDER BY id LIMIT 1"))
    many = frozenset({"loan_limit", "same_title_now"})
    for barcode, branch in s.db.execute(
            "SELECT barcode, home_branch FROM items WHERE status = 'available' AND category ="
            " 'book' LIMIT 500").fetchall():
        loans.checkout(s, pid, barcode, branch, overrides=many,
                       actor=audit.Actor.of_device("bench", branch))
    with s.atomic():
        s.db.executemany(
            "INSERT INTO holds (title_id, patron_id, branch_id, placed_at, expires, state)"
            " SELECT title_id, ?, home_branch, ?, '2099-01-01', 'waiting' FROM items"
            " WHERE status = 'on_loan' AND id = ?",
            [(pid, s.now().isoformat(), i) for (i,) in s.db.execute(
                "SELECT item_id FROM loans WHERE returned_at IS NULL AND patron_id != ?"
                " LIMIT 100", [pid]).fetchall()])
    return pid


def sustained(s: Store, count: int, batch: int = 100) -> float:
    """Checkouts/s as central's worker applies them: kiosk requests in committed batches."""
    branch = s.scalar("SELECT id FROM branches ORDER BY id LIMIT 1")
    fleet.enrol(s.db, "kiosk-rate", branch, "kiosk")
    key = bytes.fromhex(sites.open_site(s.db, branch))
    today = s.now().date().isoformat()
    people = [p for (p,) in s.db.execute(
        "SELECT id FROM patrons p WHERE id % 10 < 7 AND status = 'active' AND NOT blocked AND"
        " category = 'adult' AND valid_until > ? AND NOT EXISTS (SELECT 1 FROM debts d WHERE"
        " d.patron_id = p.id) LIMIT 2000", [today])]
    items = [b for (b,) in s.db.execute(
        "SELECT barcode FROM items WHERE status = 'available' AND category = 'book' AND"
        " home_branch = ? LIMIT ?", [branch, count])]
    messages = []
    for n, barcode in enumerate(items):
        body = {"card": card_hash(key, f"04{people[n % len(people)]:012X}"), "item": barcode}
        env = envelope.make("loan.checkout", "kiosk-rate", body, seq=n + 1)
        messages.append(Message("kiosk-rate", "req", env, envelope.encode(env)))
    applier = Applier(s.db)
    before = s.scalar("SELECT count(*) FROM loans")
    started = time.perf_counter()
    for i in range(0, len(messages), batch):
        applier.apply(messages[i:i + batch])
    elapsed = time.perf_counter() - started
    assert s.scalar("SELECT count(*) FROM loans") - before == len(items), "checkouts refused"
    return len(items) / elapsed


def in_process(src: Path, count: int) -> dict:
    """One run on a fresh copy of the network."""
    with tempfile.TemporaryDirectory() as tmp:
        path = copy_db(src, Path(tmp))
        s = Store(open_store(str(path)))
        rng = random.Random(len(tmp))
        pairs = _pairs(s, count * 2, rng)
        out = _timed(lambda p, b, br: loans.checkout(s, p, b, br), pairs[:count])
        back = _timed(lambda p, b, br: loans.checkin(s, b, br), pairs[:count])
        view = _timed(lambda p, b, br: summary.summary(s, p, br), pairs[:count])
        rate = sustained(s, count * 3)
        pid = heavy_patron(s)
        branch = s.scalar("SELECT id FROM branches ORDER BY id LIMIT 1")
        heavy = _timed(lambda: summary.summary(s, pid, branch), [()] * 50)
        assert len(summary.summary(s, pid, branch)["loans"]) == 500
        raw, raw_rate = raw_reference(path, count)
        s.db.close()
    return {"out": out, "back": back, "view": view, "rate": rate, "heavy": heavy, "raw": raw,
            "raw_rate": raw_rate}


def through_broker(src: Path, count: int) -> dict:
    """Checkout and account summary requests from a kiosk through mosquitto and central."""
    with tempfile.TemporaryDirectory() as tmp:
        copy_db(src, Path(tmp))
        s = Store(open_store(str(Path(tmp) / "central.db")))
        branch = s.scalar("SELECT id FROM branches ORDER BY id LIMIT 1")
        pairs = [p for p in _pairs(s, count * 4, random.Random(5)) if p[2] == branch][:count]
        s.db.close()
        net = Network(Path(tmp), site=branch)
        try:
            net.start_central()
            kiosk = net.device("kiosk-bench", kind="kiosk")
            kiosk.start()
            wait_for(lambda: kiosk.central_up, timeout=60)
            key = bytes.fromhex(net.card_key)
            s = Store(net.db)
            cards = {p: card_hash(key, patrons.add_card(s, p, f"04{p:012X}77"))
                     for p in {p for p, _, _ in pairs}}
            first = next(iter(cards.values()))
            kiosk.request(wire.ACCOUNT_SUMMARY, wire.Card(card=first), timeout=120)   # warm up
            out = _timed(lambda p, b: kiosk.request(wire.LOAN_CHECKOUT,
                                                    wire.Checkout(card=cards[p], item=b)),
                         [(p, b) for p, b, _ in pairs])
            view = _timed(lambda p: kiosk.request(wire.ACCOUNT_SUMMARY, wire.Card(card=cards[p])),
                          [(p,) for p, _, _ in pairs])
            raw = raw_round_trips(net, count)
            kiosk.stop()
        finally:
            net.close()
    return {"out": out, "view": view, "raw": raw}


def main(quick: bool = False) -> None:
    """Median figures over several runs on copies of the same generated network."""
    scale, count, repeats = (0.02, 300, 2) if quick else (1.0, 2000, 3)
    src = network_db(scale)
    runs = [in_process(src, count) for _ in range(repeats)]
    ms = 1000

    def med(key, p):
        return median([percentile(r[key], p) for r in runs]) * ms

    raw99 = med("raw", 99)
    for name, key, target in (("checkout", "out", 5), ("return", "back", None),
                              ("account summary", "view", None)):
        report(f"{name} in process p50", med(key, 50), "ms", med("raw", 50),
               "raw SELECT+INSERT p50", "-", True)
        report(f"{name} in process p99", med(key, 99), "ms", raw99, "raw SELECT+INSERT p99",
               f"≤ {target} ms" if target else "-", target is None or med(key, 99) <= target)
    heavy = med("heavy", 99)
    report("summary, 500 loans + 100 holds, p99", heavy, "ms", raw99, "raw SELECT+INSERT p99",
           "≤ 20 ms", heavy <= 20)
    rate = median([r["rate"] for r in runs])
    report("checkouts sustained (worker batches)", rate, "/s",
           median([r["raw_rate"] for r in runs]), "raw single-row commits/s", "≥ 2,000/s",
           rate >= 2000)
    wire = [through_broker(src, count // 4) for _ in range(repeats)]
    for name, key in (("checkout", "out"), ("account summary", "view")):
        for p in (50, 99):
            ours = median([percentile(w[key], p) for w in wire]) * ms
            raw = median([percentile(w["raw"], p) for w in wire]) * ms
            report(f"{name} via broker p{p}", ours, "ms", raw, f"raw MQTT 5 p{p}", "-", True)


if __name__ == "__main__":
    import sys

    main("--quick" in sys.argv)
