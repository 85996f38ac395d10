"""`make demo` end to end: start it, tap cards, block one, stop it with Ctrl-C."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from central.database import connect
from libedge_cli.demo import WEB_PASSWORD
from provisioning.broker import free_port
from tests.harness import PATIENCE, wait_for

CLI = [sys.executable, "-u", "-c", "from libedge_cli.main import cli; cli()"]
WEB = ["--web-port", str(free_port())]   # demos run side by side here: not all on 8080


def libedge(*args):
    """Run the `libedge` CLI and capture its output."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=PATIENCE)


@pytest.fixture
def start_demo(tmp_path):
    """Start `libedge demo` in `tmp_path/demo-run` with more arguments; after the test, on every
    path (a failed wait included), stop whatever it started: SIGINT, then SIGKILL to its process
    group and to every process naming its run directory."""
    run = tmp_path / "demo-run"
    started: list[subprocess.Popen] = []

    def start(*args: str, **popen) -> subprocess.Popen:
        """The demo process, in a process group of its own."""
        popen["env"] = os.environ | {"PYTHONUNBUFFERED": "1"} | popen.get("env", {})
        started.append(subprocess.Popen([*CLI, "demo", "--run-dir", str(run), *WEB, *args],
                                        start_new_session=True, **popen))
        return started[-1]

    yield start
    for demo in started:
        if demo.poll() is None:
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(PATIENCE)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(demo.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        demo.wait()
        for pid in started_from(run, but=demo.pid):
            os.kill(pid, signal.SIGKILL)


def wait_ready(demo: subprocess.Popen, out: Path) -> str:
    """Wait until the demo prints `ready` (it enrols every device and starts central first, so
    how long depends on how busy the machine is), failing at once if it exits; its output."""
    wait_for(lambda: "ready" in out.read_text() or demo.poll() is not None, what="demo ready")
    assert demo.poll() is None, out.read_text()
    return out.read_text()


def stopped(demo: subprocess.Popen) -> int:
    """Ctrl-C the demo and wait for it to stop; its exit code."""
    demo.send_signal(signal.SIGINT)
    return demo.wait(PATIENCE)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_demo_runs_taps_blocks_and_stops_cleanly(tmp_path, start_demo, request, store):
    """The demo syncs both locks and the return box, grants and refuses taps, takes a book back
    at the box and says where it went, refuses a card blocked meanwhile, runs central's command,
    and stops on Ctrl-C; on its SQLite file, and on PostgreSQL (`--database`)."""
    run = tmp_path / "demo-run"
    if store == "sqlite":
        db, args = str(run / "central.db"), ()
    else:
        db = request.getfixturevalue("pg_database")
        args = ("--database", db)
    demo = start_demo(*args, stdout=open(tmp_path / "demo.out", "w+"), stderr=subprocess.STDOUT)
    wait_ready(demo, tmp_path / "demo.out")
    def synced():
        """Whether both locks are online with an allow-list past version 0."""
        *lines, refused = libedge("status", "--db", db).stdout.splitlines()
        assert refused.startswith("refused events: "), refused
        return len(lines) == 3 and all(" online " in x and "allowlist:v0" not in x
                                       and "allowlist:v" in x for x in lines)

    wait_for(synced, what="both locks and the box online with allow-lists")
    web = re.search(r"web +(http://\S+)", (tmp_path / "demo.out").read_text()).group(1)
    with httpx.Client(base_url=web) as client:
        token = client.get("/login").cookies["libedge_login"]
        signed = client.post("/login", data={"csrf": token, "staff": "facilities",
                                             "password": WEB_PASSWORD})
        assert signed.status_code == 303 and client.get("/fleet").text.count(
            'class="state">online') == 3
    granted = libedge("tap", "--run-dir", str(run), "toilet-1", "04A1B2C3")
    assert (granted.returncode, granted.stdout) == (0, "granted\n"), granted
    refused = libedge("tap", "--run-dir", str(run), "entrance", "04D4E5F6")
    assert refused.returncode == 1 and refused.stdout.startswith("refused: "), refused
    assert "blocked" in refused.stdout

    def log():
        """The demo's access log as `libedge admin access-log` prints it."""
        return libedge("admin", "access-log", "--db", db).stdout

    wait_for(lambda: "granted" in log() and "blocked" in log(),
             what="decisions in the access log")
    block = re.search(r"libedge admin (card block .*)", (tmp_path / "demo.out").read_text())
    blocked = libedge("admin", *block.group(1).split())   # as the banner says it
    assert blocked.returncode == 0, blocked.stdout + blocked.stderr

    def refused_as_blocked() -> bool:
        """Tap the card at toilet-1; whether the door refused it as blocked."""
        tap = libedge("tap", "--run-dir", str(run), "toilet-1", "04A1B2C3")
        return tap.returncode == 1 and "blocked" in tap.stdout

    wait_for(refused_as_blocked, interval=0.5, what="the blocked card refused at toilet-1")
    wait_for(lambda: "toilet-1" in (last := libedge("admin", "access-log", "--db", db,
                                                    "--limit", "1").stdout)
             and "blocked" in last, what="the refusal in the access log")
    lent = re.search(r"libedge tap returnbox (\S+)",
                     (tmp_path / "demo.out").read_text()).group(1)
    returned = libedge("tap", "--run-dir", str(run), "returnbox", lent)
    assert returned.returncode == 0 and returned.stdout.startswith("returned: ") and \
        " -> bin " in returned.stdout, returned
    again = libedge("tap", "--run-dir", str(run), "returnbox", lent)
    assert (again.returncode, again.stdout) == (1, "refused: already_returned\n"), again
    bad = libedge("tap", "--run-dir", str(run), "no-such-door", "04A1B2C3")
    assert bad.returncode != 0 and "cannot reach the reader" in bad.stderr
    sent = libedge("admin", "command", "--db", db, "--staff", "admin", "lock-1", "open",
                   "--arg", "door=reading-room", "--arg", "seconds=2")
    assert sent.returncode == 0, sent
    nonce = sent.stdout.split("nonce ")[1].rstrip(")\n")

    def result():
        """The outcome the lock reported for the command."""
        store = connect(db)
        try:
            return store.execute("SELECT outcome FROM command_results WHERE nonce = ?",
                                 [nonce]).fetchall()
        finally:
            store.close()

    assert wait_for(result, what="the lock ran central's command") == [("ok",)]
    code = stopped(demo)
    text = (tmp_path / "demo.out").read_text()
    assert code == 0 and "stopped" in text and "Traceback" not in text, text


def test_demo_kiosk_borrows_through_central(tmp_path, start_demo):
    """With the kiosk, a tap and a scanned barcode lend the item at central; the banner's form
    command shows a form on the signing pad."""
    run = tmp_path / "demo-run"
    demo = start_demo("--kiosk", stdout=open(tmp_path / "demo.out", "w+"),
                      stderr=subprocess.STDOUT, env={"SDL_VIDEODRIVER": "offscreen",
                                                     "KIVY_HOME": str(tmp_path / ".kivy")})
    banner = wait_ready(demo, tmp_path / "demo.out")
    barcode = re.search(r"libedge tap --wait 0 scanner (\S+)", banner).group(1)
    kiosk_log = run / "logs" / "kiosk-1.log"
    wait_for(lambda: "central is serving" in kiosk_log.read_text(),
             what="the kiosk reaches central")
    assert libedge("tap", "--wait", "0", "--run-dir", str(run), "kiosk",
                   "04A1B2C3").returncode == 0
    wait_for(lambda: "screen account" in kiosk_log.read_text(), what="account shown")
    assert libedge("tap", "--wait", "0", "--run-dir", str(run), "scanner",
                   barcode).returncode == 0

    def lent():
        """How many open loans central holds for the scanned item."""
        with sqlite3.connect(run / "central.db") as db:
            return db.execute("SELECT count(*) FROM loans JOIN items i ON i.id = item_id"
                              " WHERE i.barcode = ? AND returned_at IS NULL",
                              [barcode]).fetchone()[0]

    wait_for(lent, what="the loan at central")
    start = re.search(r"libedge admin (form start .*)", banner)
    pad_log = run / "logs" / "pad-1.log"
    wait_for(lambda: "central is serving" in pad_log.read_text(),
             what="the pad reaches central")
    started = libedge("admin", *start.group(1).split())
    assert started.returncode == 0, started.stdout + started.stderr
    wait_for(lambda: "revision 1 shown" in pad_log.read_text(), what="the form on the pad")
    code = stopped(demo)
    text = (tmp_path / "demo.out").read_text()
    assert code == 0 and "stopped" in text, text
    for log in ("kiosk-1", "pad-1"):
        assert "Traceback" not in text + (run / "logs" / f"{log}.log").read_text()


def started_from(run: Path, but: int) -> dict[int, str]:
    """Processes (other than `but`) whose command line names the run directory: the broker,
    central and the locks."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != but:
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, UnicodeDecodeError):
                continue
            if str(run) in cmd:
                found[int(entry.name)] = cmd
    return found


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP])
def test_demo_stops_everything_when_its_output_is_gone(tmp_path, sig, start_demo):
    """`make demo | tee log`, then Ctrl-C: tee dies too, and the demo must still stop all."""
    run = tmp_path / "demo-run"
    demo = start_demo("--no-kiosk", stdout=subprocess.PIPE,
                      stderr=open(tmp_path / "demo.err", "w+"))
    ready = threading.Event()
    threading.Thread(target=lambda: any(line.strip() == b"ready" for line in demo.stdout)
                     and ready.set(), daemon=True).start()
    wait_for(lambda: ready.is_set() or demo.poll() is not None, what="demo ready")
    assert demo.poll() is None, (tmp_path / "demo.err").read_text()
    # a child just spawned may show an empty command line for a moment: wait for all six
    children = wait_for(lambda: (found := started_from(run, but=demo.pid)) and len(
        found) == 6 and found, what="the broker, central, the web pages, lock-1, lock-2 and"
                                    " returnbox-1")
    assert sum("mosquitto" in cmd for cmd in children.values()) == 1, children
    demo.stdout.close()  # tee is gone
    demo.send_signal(sig)
    code = demo.wait(PATIENCE)
    wait_for(lambda: not children.keys() & started_from(run, but=demo.pid).keys(),
             what=f"the demo's broker and daemons gone: {children}")
    assert code == 0
    text = (tmp_path / "demo.err").read_text()
    assert "Traceback" not in text and "Exception ignored" not in text, text
