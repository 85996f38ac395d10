"""Central ingest: events/s applied exactly once, in process and through the broker, on SQLite
and on PostgreSQL with 1, 2 and 4 workers."""

import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import median, network, report, wait_for
from central import access, fleet  # noqa: F401 - registers the access handler
from central.database import Database
from central.ingest import Applier, Message
from central.store import open_store
from edge_common import envelope
from tests.harness import device_json, write_central_toml

BODY = {"door": "d", "card": "a" * 64, "result": "granted"}


def messages(count: int, devices: int = 10) -> list[Message]:
    """Valid access events from several devices, as the service hands them to the applier."""
    out = []
    for i in range(count):
        dev = f"lock-{i % devices}"
        env = envelope.make("access.decision", dev, BODY, seq=i + 1)
        out.append(Message(dev, "evt", env, envelope.encode(env)))
    return out


def applied(db: Database, msgs: list[Message], batch: int) -> float:
    """Events/s through Applier.apply of `msgs` from ten enrolled doors, checked applied."""
    for d in range(10):
        fleet.enrol(db, f"lock-{d}", "main", "lockd")
    applier = Applier(db)
    start = time.perf_counter()
    for i in range(0, len(msgs), batch):
        applier.apply(msgs[i:i + batch])
    rate = len(msgs) / (time.perf_counter() - start)
    assert db.execute("SELECT count(*) FROM access_log").fetchone()[0] == len(msgs)
    return rate


def in_process(count: int, batch: int = 1000) -> tuple[float, float]:
    """(events/s through Applier.apply, raw sqlite3 rows/s of the same inserts)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = open_store(str(Path(tmp) / "central.db"))
        msgs = messages(count)
        ours = applied(db, msgs, batch)
        raw = sqlite3.connect(str(Path(tmp) / "raw.db"), isolation_level=None)
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=FULL")
        raw.execute("CREATE TABLE log (dev, site, door, card, result, at, seq, received)")
        rows = [(m.dev, "main", "d", "a" * 64, "granted", m.env.at.isoformat(), m.env.seq, "x")
                for m in msgs]
        start = time.perf_counter()
        for i in range(0, count, batch):
            raw.execute("BEGIN")
            raw.executemany("INSERT INTO log VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows[i:i + batch])
            raw.execute("COMMIT")
        return ours, count / (time.perf_counter() - start)


def in_process_postgres(count: int, batch: int = 1000) -> tuple[float, float]:
    """(events/s through Applier.apply on PostgreSQL, raw psycopg inserts of the same rows in
    batches of the same size on the same server)."""
    with postgres_store() as url:
        db = open_store(url)
        msgs = messages(count)
        ours = applied(db, msgs, batch)
        db.execute("CREATE TABLE raw_log (dev TEXT, site TEXT, door TEXT, card TEXT,"
                   " result TEXT, at TEXT, seq BIGINT, received TEXT)")
        rows = [(m.dev, "main", "d", "a" * 64, "granted", m.env.at.isoformat(), m.env.seq, "x")
                for m in msgs]
        start = time.perf_counter()
        for i in range(0, count, batch):
            with db.transaction():
                db.executemany("INSERT INTO raw_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               rows[i:i + batch])
        raw = count / (time.perf_counter() - start)
        db.close()
        return ours, raw


@contextmanager
def postgres_store() -> Iterator[str]:
    """A new PostgreSQL store on the test server, dropped afterwards."""
    from tests.stores import Server

    server = Server()
    try:
        with server.database() as url:
            yield url
    finally:
        server.close()


def workers_through_broker(count: int, workers: int, devices: int = 8) -> float:
    """Events/s applied by `workers` central processes on one PostgreSQL store while
    `devices` device processes drain their outboxes."""
    with postgres_store() as url, network(store=url) as net:
        producers = _producers(net, count, devices)
        start = time.perf_counter()
        procs = []
        for n in range(1, workers + 1):
            conf = write_central_toml(net.broker, url, net.root / f"central-{n}.toml",
                                      f"central-{n}")
            procs.append(subprocess.Popen([sys.executable, "-m", "central.service",
                                           "--config", str(conf)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        try:
            wait_for(lambda: (net.db.execute("SELECT max(id) FROM access_log").fetchone()[0]
                              or 0) >= count, timeout=1800, interval=0.05)
            rate = count / (time.perf_counter() - start)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(30)
        for p in producers:
            p.wait(60)
        return rate


def _producers(net, count: int, devices: int) -> list[subprocess.Popen]:
    """Device processes that queue `count` events between them, waited for until queued."""
    procs = []
    for i in range(devices):
        dev = f"bench-{i}"
        fleet.enrol(net.db, dev, net.site, "lockd")
        cfg = device_json(net.broker, net.root, dev, net.site, net.card_key)
        procs.append(subprocess.Popen([sys.executable, "-m", "tests.producer", str(cfg),
                                       str(count // devices)]))
    outboxes = [net.root / f"bench-{i}" / "outbox.db" for i in range(devices)]
    wait_for(lambda: all(_queued(p) >= count // devices for p in outboxes), timeout=300,
             interval=0.2)
    return procs


def through_broker(count: int, devices: int = 4) -> float:
    """Events/s applied by central when `devices` device processes drain their outboxes."""
    with network() as net:
        procs = _producers(net, count, devices)
        start = time.perf_counter()
        net.start_central()
        # max(id), not count(*): the poll must not scan the table under central's GIL
        wait_for(lambda: (net.db.execute("SELECT max(id) FROM access_log").fetchone()[0]
                          or 0) >= count, timeout=600, interval=0.02)
        rate = count / (time.perf_counter() - start)
        for p in procs:
            p.wait(60)
        return rate


def _queued(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path, timeout=5) as conn:
        try:
            return conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def main(quick: bool = False) -> None:
    """Medians of several runs."""
    count, repeats = (20_000, 2) if quick else (100_000, 5)
    results = [in_process(count) for _ in range(repeats)]
    ours, raw = median([r[0] for r in results]), median([r[1] for r in results])
    report("central ingest in process (SQLite)", ours, "events/s", raw,
           "raw sqlite3 inserts of the same rows", "≥ 10,000/s", ours >= 10_000)
    broker = median([through_broker(count // 2) for _ in range(max(1, repeats // 2))])
    report("central ingest through the broker (4 device processes)", broker, "events/s", ours,
           "in process",
           "≥ 10,000/s", broker >= 10_000)
    results = [in_process_postgres(count // 2) for _ in range(max(1, repeats // 2))]
    pg, pg_raw = median([r[0] for r in results]), median([r[1] for r in results])
    report("central ingest in process (PostgreSQL)", pg, "events/s", pg_raw,
           "raw psycopg inserts of the same rows", "≥ 10,000/s", pg >= 10_000)
    for workers in (1, 2, 4):
        rate = median([workers_through_broker(count // 2, workers)
                       for _ in range(max(1, repeats // 2))])
        report(f"ingest through the broker, {workers} worker(s) on PostgreSQL (8 devices)",
               rate, "events/s", pg, "one worker in process", "≥ 30,000/s (issue 26)",
               rate >= 30_000)


if __name__ == "__main__":
    import sys

    main("--quick" in sys.argv)
