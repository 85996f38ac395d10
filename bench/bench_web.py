"""The staff web pages: the statistics page of one branch over a year of ≥ 10 million access
events, against a raw SQL aggregate of the same rows; the Now page under 50 staff sessions."""

import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench import web_data
from bench.common import cached_db, copy_db, median, percentile, report, wait_for
from bench.web_data import SITE, YEAR, build
from central import access_counts
from central.circulation.store import Store
from central.store import open_store
from provisioning.broker import free_port
from tests.web import signed_in_client, staff


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

    def __init__(self, db_path: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "libedge_cli", "web", "--db",
                                      str(db_path), "--listen", f"127.0.0.1:{port}"])
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
    src = cached_db(f"web-{events}", lambda p: build(p, events), access_counts, web_data)
    with tempfile.TemporaryDirectory() as tmp:
        path = copy_db(src, Path(tmp))
        s = Store(open_store(str(path)))
        staff(s, "fac", "facilities", [SITE])
        for i in range(sessions):
            staff(s, f"staff-{i}", "facilities", [SITE])
        s.db.close()
        raw = median([raw_heatmap(path) for _ in range(3)]) * 1000
        server = WebProcess(path)
        try:
            page = percentile(stats_page(server, 10 if quick else 30), 95) * 1000
            report(f"statistics page, a year of {events:,} events, p95", page, "ms", raw,
                   "raw SQL heatmap aggregate", "≤ 300 ms", page <= 300)
            print(f"hourly counts exact: {exact(path)}", flush=True)
            alone = median(now_page(server, 1, 20)) * 1000
            live = percentile(now_page(server, sessions, each), 95) * 1000
            report(f"Now page, {sessions} sessions at once, p95", live, "ms", alone,
                   "one session, median", "≤ 200 ms", live <= 200)
        finally:
            server.stop()


if __name__ == "__main__":
    main("--quick" in sys.argv)
