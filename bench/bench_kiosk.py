"""The kiosk as a patron meets it: cold start, card → account drawn, scan → confirmation, memory.

Central runs on loopback with patrons who each have 15 loans; the kiosk is the real daemon
(central backend, Kivy under SDL's offscreen driver). References in the same run: a bare Kivy
app for start and memory, central's own request round trips for the screen latencies; the
patron-screen theme alone (bench/theme_probe.py) against the bare app shows what the look costs.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_rpc import raw_round_trips
from bench.bench_rss import rss_mb
from bench.common import median, network, percentile, report, wait_for
from bench.kiosk_probe import uid
from central import fleet
from central.circulation import loans, patrons
from central.circulation.store import Store
from edge_common.protocol import Message
from edge_common.protocol.circulation import ACCOUNT_SUMMARY, Card
from tests.circ import copy, install
from tests.harness import device_parts

LOANS_EACH = 15


def library(net, patrons_count: int) -> None:
    """Patrons with cards and 15 loans each, and one free item per patron to borrow."""
    s = install(Store(net.db), branches=[(net.site, "Main Library")])
    with s.atomic():
        for n in range(patrons_count):
            pid = patrons.add_patron(s, f"Reader{n}", "adult", branch=net.site)
            patrons.add_card(s, pid, uid(n))
            for j in range(LOANS_EACH):
                copy(s, f"L{n}-{j}", f"Title {n}-{j}", net.site)
                loans.checkout(s, pid, f"L{n}-{j}", net.site)
            copy(s, f"K{n}", f"Borrowed at the kiosk {n}", net.site)


def config(net, root: Path) -> Path:
    """The kiosk's TOML: central backend, simulated card reader, short goodbye."""
    fleet.enrol(net.db, "kiosk-1", net.site, "kiosk")
    dev, mqtt, _ = device_parts(net.broker, root, "kiosk-1", net.site, "kiosk", net.card_key)
    path = root / "kiosk.toml"
    path.write_text(f"""[device]
id = "{dev.id}"\nsite = "{dev.site}"\nkind = "kiosk"\ndata_dir = "{dev.data_dir}"
card_key = "{dev.card_key}"
[mqtt]\nport = {mqtt.port}\nusername = "{mqtt.username}"\npassword = "{mqtt.password}"
[kiosk]\nbackend = "central"\nfullscreen = false\ngoodbye_for = 0.1
[card_reader]\nkind = "sim"\nsocket = "{root / 'card.sock'}"
""")
    return path


def started(cmd: list[str], ready: str, env: dict, stream: str) -> tuple[float, float]:
    """Seconds from spawn to the `ready` line, and the process RSS (MB) a moment later."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE if stream == "stderr" else subprocess.STDOUT)
    out = proc.stderr if stream == "stderr" else proc.stdout
    seen = []
    try:
        while ready not in (line := out.readline()):
            seen.append(line)
            if not line:
                raise RuntimeError(f"{cmd[:3]} ended before {ready!r}: {''.join(seen[-20:])}")
        took = time.monotonic() - start
        time.sleep(2)
        return took, rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def request_times(net, message: Message, count: int) -> list[float]:
    """Central's round trip for the summary a card tap asks for, from a plain device runtime."""
    dev = net.device("bench-ref", kind="kiosk")
    dev.start()
    wait_for(lambda: dev.central_up)
    from edge_common.cardid import card_hash

    card = card_hash(bytes.fromhex(net.card_key), uid(0))
    times = []
    for _ in range(count):
        start = time.perf_counter()
        dev.request(message, Card(card=card))
        times.append(time.perf_counter() - start)
    dev.stop()
    return times


def measure(rounds: int) -> dict:
    """One run on a fresh broker and central."""
    env = os.environ | {"SDL_VIDEODRIVER": "offscreen", "KIVY_NO_CONSOLELOG": "1"}
    with network() as net, tempfile.TemporaryDirectory() as tmp:
        env["KIVY_HOME"] = str(Path(tmp) / ".kivy")
        library(net, rounds)
        net.start_central()
        cfg = config(net, Path(tmp))
        probe = subprocess.run([sys.executable, "-m", "bench.kiosk_probe", str(cfg), str(rounds)],
                               env=env, capture_output=True, text=True, timeout=600)
        if probe.returncode:
            raise RuntimeError(probe.stderr[-3000:])
        times = json.loads(probe.stdout.strip().splitlines()[-1])
        cold, _ = started([sys.executable, "-m", "kiosk.daemon", "--config", str(cfg)],
                            "kiosk ready", env, "stderr")
        bare_cold, bare_rss = started([sys.executable, "-m", "bench.theme_probe", "--bare"],
                                      "ready", env, "stdout")
        themed_cold, themed_rss = started([sys.executable, "-m", "bench.theme_probe"], "ready",
                                          env, "stdout")
        summary = request_times(net, ACCOUNT_SUMMARY, 200)
        raw = raw_round_trips(net, 200)
    return {
        "card50": percentile(times["card_to_account"], 50) * 1000,
        "card99": percentile(times["card_to_account"], 99) * 1000,
        "scan50": percentile(times["scan_to_confirmation"], 50) * 1000,
        "scan99": percentile(times["scan_to_confirmation"], 99) * 1000,
        "summary99": percentile(summary, 99) * 1000, "summary50": percentile(summary, 50) * 1000,
        "raw50": percentile(raw, 50) * 1000, "raw99": percentile(raw, 99) * 1000,
        "cold": cold, "bare_cold": bare_cold, "rss": times["rss_mb"],
        "idle_rss": times["idle_rss_mb"], "bare_rss": bare_rss,
        "themed_cold": themed_cold, "themed_rss": themed_rss,
    }


def main(quick: bool = False) -> None:
    """Medians over several runs."""
    runs = [measure(15 if quick else 60) for _ in range(1 if quick else 3)]

    def med(key):
        return median([r[key] for r in runs])

    report("kiosk cold start to idle screen", med("cold"), "s", med("bare_cold"),
           "bare Kivy app, same window, to first frame", "-", True)
    report("kiosk card read → account drawn p50", med("card50"), "ms", med("summary50"),
           "account.summary round trip p50", "-", True)
    report("kiosk card read → account drawn p99", med("card99"), "ms", med("summary99"),
           "account.summary round trip p99", "≤ 150 ms", med("card99") <= 150)
    report("kiosk item scan → confirmation drawn p50", med("scan50"), "ms", med("raw50"),
           "raw MQTT 5 round trip p50", "-", True)
    report("kiosk item scan → confirmation drawn p99", med("scan99"), "ms", med("raw99"),
           "raw MQTT 5 round trip p99", "≤ 100 ms", med("scan99") <= 100)
    report("kiosk RSS (central backend, after the sessions)", med("rss"), "MB", med("bare_rss"),
           "bare Kivy app, same window", "≤ 160 MB", med("rss") <= 160,
           median([r["rss"] / r["bare_rss"] for r in runs]))
    report("kiosk RSS (central backend, idle after start)", med("idle_rss"), "MB",
           med("bare_rss"), "bare Kivy app, same window", "-", True)
    report("patron-screen theme: start to a list of 15 rows drawn", med("themed_cold"), "s",
           med("bare_cold"), "bare Kivy app, same window, to first frame", "-", True)
    report("patron-screen theme: RSS with a list of 15 rows", med("themed_rss"), "MB",
           med("bare_rss"), "bare Kivy app, same window", "-", True)


if __name__ == "__main__":
    main("--quick" in sys.argv)
