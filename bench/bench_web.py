"""The staff web pages: the statistics page of one branch over a year of ≥ 10 million access
events, against a raw SQL aggregate of the same rows; the Now page under 50 staff sessions."""

import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from bench.common import cached_db, copy_db, median, percentile, report, wait_for
from central import access_counts, fleet
from central.circulation import branches
from central.circulation.store import Store
from central.store import open_store
from edge_common import envelope
from edge_common.protocol.backbone import DeviceStatus, DoorStatus
from provisioning.broker import free_port
from tests.web import signed_in_client, staff

SITE, TZ = "center", "Europe/Ljubljana"
YEAR = (date(2025, 12, 1), date(2026, 11, 30))
DOORS = [("reading-room", "rr-north"), ("reading-room", "rr-south"), ("toilets", "wc-1"),
         ("toilets", "wc-2"), ("lobby", "entrance")]


def build(path: Path, events: int) -> None:
    """A store whose branch has `events` door events spread over a year (in SQL, for speed),
    counted by the same code the migration uses, plus doors, people inside and alarms."""
    db = open_store(str(path))
    s = Store(db)
    branches.add_branch(s, SITE, "Center", TZ)
    db.execute("PRAGMA synchronous=OFF")
    start = int(datetime(2025, 12, 1, tzinfo=UTC).timestamp())
    with db.atomic():
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            " INSERT INTO access_log (dev, site, door, card, result, at, seq, received_at, room,"
            " direction) SELECT 'lock-' || (i % 5), ?, CASE i % 5 WHEN 0 THEN 'rr-north'"
            " WHEN 1 THEN 'rr-south' WHEN 2 THEN 'wc-1' WHEN 3 THEN 'wc-2' ELSE 'entrance' END,"
            " printf('%064x', abs(random()) % 20000), CASE abs(random()) % 20 WHEN 0 THEN"
            " 'blocked' WHEN 1 THEN 'closed_now' WHEN 2 THEN 'rate_limited' ELSE 'granted' END,"
            " strftime('%Y-%m-%dT%H:%M:%S+00:00', ? + (i * 365 / ?) * 86400 + 21600"
            "  + abs(random()) % 50400, 'unixepoch'), i, '',"
            " CASE i % 5 WHEN 0 THEN 'reading-room' WHEN 1 THEN 'reading-room' WHEN 2 THEN"
            " 'toilets' WHEN 3 THEN 'toilets' ELSE 'lobby' END,"
            " CASE WHEN abs(random()) % 3 = 0 THEN 'out' ELSE 'in' END FROM n",
            [events - 1, SITE, start, events])
        access_counts.rebuild(db)
        _live(db)
    db.execute("ANALYZE")
    db.conn.close()


def _live(db) -> None:
    """What the Now page shows: five locks with their doors, people inside, open alarms."""
    for i in range(5):
        dev = f"lock-{i}"
        fleet.enrol(db, dev, SITE, "lockd")
        room, door = DOORS[i]
        status = DeviceStatus(online=True, kind="lockd", version="0.1.0", doors={
            door: DoorStatus(released=False, open=False, lockdown=False, room=room, inside=3,
                             result="granted")})
        body = envelope.encode(envelope.make("status", dev, status))
        db.execute("INSERT INTO device_status VALUES (?, 1, ?, ?)",
                   [dev, body, datetime.now(UTC).isoformat()])
        db.execute("INSERT INTO door_alarms (dev, site, door, alarm, active, at) VALUES"
                   " (?, ?, ?, 'door_forced', 1, ?)", [dev, SITE, door,
                                                       datetime.now(UTC).isoformat()])
    db.conn.executemany("INSERT INTO roster VALUES (?, ?, ?, ?)", [
        (SITE, DOORS[i % 5][0], f"{i:064x}", datetime.now(UTC).isoformat())
        for i in range(300)])


def raw_heatmap(db_path: Path) -> float:
    """Seconds for the reference: the heatmap's aggregate straight from the access log."""
    db = open_store(str(db_path))
    started = time.perf_counter()
    db.execute("SELECT strftime('%w', at), substr(at, 12, 2), count(*) FROM access_log"
               " WHERE site = ? AND at >= ? AND at < ? AND result = 'granted'"
               " AND direction = 'in' GROUP BY 1, 2",
               [SITE, "2025-11-30T23:00", "2026-11-30T23:00"]).fetchall()
    took = time.perf_counter() - started
    db.conn.close()
    return took


def exact(db_path: Path) -> bool:
    """Whether the hourly counts hold every logged event once."""
    db = open_store(str(db_path))
    counted = db.execute("SELECT sum(n) FROM access_hours").fetchone()[0]
    logged = db.execute("SELECT count(*) FROM access_log").fetchone()[0]
    db.conn.close()
    return bool(counted == logged)


class WebProcess:
    """`libedge web` as its own process, as deployed (the load generator's threads must not
    share the server's interpreter lock)."""

    def __init__(self, db_path: Path, workers: int = 1) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "libedge_cli", "web", "--db",
                                      str(db_path), "--listen", f"127.0.0.1:{port}",
                                      "--workers", str(workers)])
        wait_for(self._up, what="libedge web listening")

    def _up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/login").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        """Stop the server."""
        self.proc.terminate()
        self.proc.wait(30)


def stats_page(server: WebProcess, count: int) -> list[float]:
    """Seconds per full year's statistics page, one request after another."""
    with signed_in_client(server, "fac") as client:
        url = f"/stats?branch={SITE}&start={YEAR[0]}&end={YEAR[1]}"
        assert client.get(url).status_code == 200
        took = []
        for _ in range(count):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            took.append(time.perf_counter() - started)
    return took


def now_page(server: WebProcess, sessions: int, each: int) -> list[float]:
    """Seconds per Now page with `sessions` signed-in staff members asking at once, `each`
    times each (they sign in one after another first: argon2 is slow on purpose)."""
    took: list[float] = []
    ready = threading.Barrier(sessions)
    with ExitStack() as stack:
        clients = [stack.enter_context(signed_in_client(server, f"staff-{i}"))
                   for i in range(sessions)]

        def one(client: httpx.Client) -> None:
            ready.wait()
            for _ in range(each):
                started = time.perf_counter()
                assert client.get(f"/now?branch={SITE}").status_code == 200
                took.append(time.perf_counter() - started)

        threads = [threading.Thread(target=one, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(took) == sessions * each
    return took


def main(quick: bool = False) -> None:
    """Both figures, each beside its reference from the same run."""
    events, sessions, each = (200_000, 10, 5) if quick else (10_000_000, 50, 20)
    src = cached_db(f"web-{events}", lambda p: build(p, events), access_counts,
                    sys.modules[__name__])
    with tempfile.TemporaryDirectory() as tmp:
        path = copy_db(src, Path(tmp))
        s = Store(open_store(str(path)))
        staff(s, "fac", "facilities", [SITE])
        for i in range(sessions):
            staff(s, f"staff-{i}", "facilities", [SITE])
        s.db.conn.close()
        raw = median([raw_heatmap(path) for _ in range(3)]) * 1000
        server = WebProcess(path)
        try:
            page = percentile(stats_page(server, 10 if quick else 30), 95) * 1000
            report(f"statistics page, a year of {events:,} events, p95", page, "ms", raw,
                   "raw SQL heatmap aggregate", "≤ 300 ms", page <= 300)
            print(f"hourly counts exact: {exact(path)}", flush=True)
            alone = median(now_page(server, 1, 20)) * 1000
            live = percentile(now_page(server, sessions, each), 95) * 1000
            report(f"Now page, {sessions} sessions at once, p95 (1 process)", live, "ms", alone,
                   "one session, median", "≤ 200 ms", live <= 200)
        finally:
            server.stop()
        server = WebProcess(path, workers=2)
        try:
            live = percentile(now_page(server, sessions, each), 95) * 1000
            report(f"Now page, {sessions} sessions at once, p95 (2 processes)", live, "ms",
                   alone, "one session, median", "≤ 200 ms", live <= 200)
        finally:
            server.stop()


if __name__ == "__main__":
    main("--quick" in sys.argv)
