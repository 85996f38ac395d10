"""A simulated city on one mosquitto and one central worker: ingest, requests, a block, memory."""

import os
import resource
import signal
import sys
import time

from bench.bench_ingest import in_process
from bench.bench_rss import card_uid, rss_mb
from bench.city import City, Mix
from bench.common import central_process, network, percentile, report, wait_for
from central.circulation import patrons
from central.circulation.store import Store
from edge_common import topics
from tests.harness import Network, mqtt_client

KEEPS_UP = 0.95  # applied / offered: below this the outboxes grow, central is behind
LAG = 100.0  # ms: a raw round trip this slow in the simulator's loop means the loop is full


def open_files(wanted: int) -> int:
    """Raise this process's soft limit of open files (the broker inherits it) towards
    `wanted`, up to the hard limit; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used, from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def applied(net: Network) -> int:
    """Access events central has applied (max rowid: no scan under central's writes)."""
    return net.db.execute("SELECT max(rowid) FROM access_log").fetchone()[0] or 0


def central_up(net: Network) -> None:
    """Wait until a central worker says it serves (its retained presence)."""
    link = mqtt_client(net, "city-watch", [(topics.CENTRAL_STATUS_ALL, 1)], service=True)
    try:
        link.inbox.get(timeout=120)  # type: ignore[attr-defined]
    finally:
        link.stop()


def block_fanout(net: Network, city: City, patron: int) -> list[float]:
    """Block a patron with the library's own function while the city runs: seconds until each
    door has the list delta that says so."""
    hashes = {site: city.cards[site][patron] for site in city.sites}
    doors = {d.dev: hashes[d.site] for d in city.of_kind("lockd")}
    city.tally.watched.update(hashes.values())
    started = time.monotonic()
    patrons.set_blocked(Store(net.db), patron, True, "bench")
    seen = city.tally.seen
    wait_for(lambda: all(dev in seen.get(h, {}) for dev, h in doors.items()), timeout=120,
             what=f"the block of card {card_uid(patron)} at every door")
    return [seen[h][dev] - started for dev, h in doors.items()]


def drain(net: Network, city: City, events: int, pids: dict[str, int]) -> tuple[float, dict]:
    """With the fleet calm and its outboxes empty, put `events` in the doors' outboxes at once
    (a city back from an outage): events/s central applies until the last, and the CPU (share
    of a core) each process of `pids` used meanwhile."""
    city.calm()
    wait_for(lambda: not city.backlog(), timeout=300, what="the outboxes empty")
    cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
    rows0, started = applied(net), time.monotonic()
    total = city.burst(max(1, events // len(city.of_kind("lockd"))))
    wait_for(lambda: applied(net) >= rows0 + total, timeout=600, interval=0.05,
             what=f"{total} events applied")
    took = time.monotonic() - started
    return total / took, {k: (cpu_seconds(p) - cpu0[k]) / took for k, p in pids.items()}


def measure(count: int, mix: Mix, warmup: float, window: float, blocks: int,
            burst: int) -> dict:
    """One city of `count` devices on a fresh broker and central process: every figure."""
    with network() as net:
        idle = {"broker": rss_mb(net.broker.proc.pid)}  # without accounts: they are per device
        city = City(net, count, mix)
        broker_pid = net.broker.proc.pid  # the broker started again with the accounts
        with central_process(net) as central:
            central_up(net)
            idle["central"] = rss_mb(central.pid)
            with city:
                time.sleep(warmup)   # a measurement window, not a wait for an event
                city.tally.answered.clear()
                city.raw.clear()
                rows0, sent0, t0 = applied(net), city.tally.sent, time.monotonic()
                time.sleep(window)
                took = time.monotonic() - t0
                out = {"applied": (applied(net) - rows0) / took,
                       "offered": (city.tally.sent - sent0) / took,
                       "backlog": city.backlog(), "answered": list(city.tally.answered),
                       "raw": list(city.raw), "timeouts": city.tally.timeouts,
                       "rss": {"broker": rss_mb(broker_pid), "central": rss_mb(central.pid)},
                       "idle": idle, "doors": len(city.of_kind("lockd"))}
                out["block"] = [t for p in range(blocks) for t in block_fanout(net, city, p)]
                out["drain"], out["cpu"] = drain(net, city, burst, {
                    "broker": broker_pid, "central": central.pid, "city": os.getpid()})
    return out


def curve(sizes: list[int], mix: Mix, warmup: float, window: float, blocks: int,
          burst: int) -> None:
    """Measure each size and report it as a row of the curve, with its references."""
    ingest_ref = in_process(5000)[0]
    ms, verdicts = 1000, []
    for n in sizes:
        print(f"{n} devices, load average {os.getloadavg()[0]:.1f}", flush=True)
        r = measure(n, mix, warmup, window, blocks, burst)
        cpu = ", ".join(f"{k} {v:.0%}" for k, v in r["cpu"].items())
        print(f"  backlog after the window {r['backlog']:,} events, {r['timeouts']} request "
              f"timeouts; CPU while draining, of one core: {cpu}", flush=True)
        keeps_up = r["applied"] >= KEEPS_UP * r["offered"]
        report(f"city {n}: ingest at {mix.door_rate:g} decisions/s a door", r["applied"],
               "events/s", r["offered"], "offered by the doors", f"≥ {KEEPS_UP:.2f}×", keeps_up)
        report(f"city {n}: ingest through the broker, outboxes draining", r["drain"],
               "events/s", ingest_ref, "in-process ingest", "-", True)
        raw50, raw99 = (percentile(r["raw"], p) * ms for p in (50, 99))
        p50, p99 = (percentile(r["answered"], p) * ms for p in (50, 99))
        report(f"city {n}: request p50 under load", p50, "ms", raw50, "raw MQTT 5 p50, same loop",
               "-", True)
        report(f"city {n}: request p99 under load", p99, "ms", raw99, "raw MQTT 5 p99, same loop",
               "≤ 3× raw", p99 <= 3 * raw99)
        b50, b99 = (percentile(r["block"], p) * ms for p in (50, 99))
        report(f"city {n}: block fanned out to {r['doors']} doors p50", b50, "ms", raw50,
               "raw MQTT 5 p50", "-", True)
        report(f"city {n}: block fanned out to {r['doors']} doors p99", b99, "ms", raw99,
               "raw MQTT 5 p99", "≤ 1 s", b99 <= 1000)
        for part in ("broker", "central"):
            per = (r["rss"][part] - r["idle"][part]) * 1024 / n
            report(f"city {n}: {part} RSS per device", per, "KB", r["idle"][part] * 1024,
                   f"{part} RSS before the fleet, KB", "-", True)
        missed = [what for what, ok in (
            ("ingest", keeps_up), ("request p99", p99 <= 3 * raw99), ("block p99", b99 <= 1000),
            (f"the simulator's own loop (raw round trip p50 {raw50:,.0f} ms)", raw50 <= LAG))
            if not ok]
        verdicts.append((n, missed, r))
    say_where_it_stops(verdicts, mix)


def say_where_it_stops(verdicts: list[tuple[int, list[str], dict]], mix: Mix) -> None:
    """Print the first size this broker and worker did not keep up with, and what was busy."""
    capacity = max(r["drain"] for _, _, r in verdicts)
    doors = capacity / mix.door_rate
    print(f"\none worker on SQLite applied at most {capacity:,.0f} events/s: at "
          f"{mix.door_rate:g} decisions/s a door, about {doors:,.0f} doors", flush=True)
    for n, missed, r in verdicts:
        if missed:
            busiest = max(r["cpu"], key=r["cpu"].get)
            print(f"stops keeping up at {n} devices ({', '.join(missed)} missed; ingest "
                  f"{r['applied']:,.0f} of "
                  f"{r['offered']:,.0f}/s offered, backlog {r['backlog']:,}); busiest: "
                  f"{busiest} at {r['cpu'][busiest]:.0%} of a core", flush=True)
            return
    print(f"kept up at every size, up to {verdicts[-1][0]} devices", flush=True)


def main(quick: bool = False, door_rate: float = Mix.door_rate) -> None:
    """The curve at 200, 1,000 and 2,000 devices (`--quick`: 50, briefly), each door deciding
    `door_rate` times a second."""
    sizes = [50] if quick else [200, 1000, 2000]
    # SIGTERM ends the run as Ctrl-C does: through every `finally`, which stop what it started
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    open_files(4 * max(sizes) + 1024)
    warmup, window, blocks, burst = (3.0, 5.0, 1, 2000) if quick else (10.0, 20.0, 3, 40_000)
    curve(sizes, Mix(door_rate=door_rate), warmup, window, blocks, burst)


if __name__ == "__main__":
    main("--quick" in sys.argv, next((float(a.split("=", 1)[1]) for a in sys.argv
                                      if a.startswith("--door-rate=")), Mix.door_rate))
