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

from libedge_cli.demo import WEB_PASSWORD
from provisioning.broker import free_port
from tests.harness import wait_for

CLI = [sys.executable, "-u", "-c", "from libedge_cli.main import cli; cli()"]
WEB = ["--web-port", str(free_port())]   # demos run side by side here: not all on 8080


def libedge(*args):
    """Run the `libedge` CLI and capture its output."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=30)


def test_demo_runs_taps_blocks_and_stops_cleanly(tmp_path):
    """The demo syncs both locks and the return box, grants and refuses taps, takes a book back
    at the box and says where it went, refuses a card blocked meanwhile, runs central's command,
    and stops on Ctrl-C."""
    run = tmp_path / "demo-run"
    out = open(tmp_path / "demo.out", "w+")
    demo = subprocess.Popen([*CLI, "demo", "--run-dir", str(run), *WEB], stdout=out,
                            stderr=subprocess.STDOUT, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    try:
        wait_for(lambda: "ready" in (tmp_path / "demo.out").read_text(), timeout=30,
                 what="demo ready")
        db = str(run / "central.db")
        def synced():
            """Whether both locks are online with an allow-list past version 0."""
            *lines, refused = libedge("status", "--db", db).stdout.splitlines()
            assert refused.startswith("refused events: "), refused
            return len(lines) == 3 and all(" online " in x and "allowlist:v0" not in x
                                           and "allowlist:v" in x for x in lines)

        wait_for(synced, timeout=30, what="both locks and the box online with allow-lists")
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
        assert libedge("admin", "card", "block", "--db", db, "--staff", "desk",
                       "04A1B2C3").returncode == 0

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
            with sqlite3.connect(db) as conn:
                return conn.execute("SELECT outcome FROM command_results WHERE nonce = ?",
                                    [nonce]).fetchall()

        assert wait_for(result, what="the lock ran central's command") == [("ok",)]
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(30)
    text = (tmp_path / "demo.out").read_text()
    assert code == 0 and "stopped" in text and "Traceback" not in text, text


def test_demo_kiosk_borrows_through_central(tmp_path):
    """With the kiosk, a tap and a scanned barcode lend the item at central; the banner's form
    command shows a form on the signing pad."""
    import re
    import sqlite3

    run = tmp_path / "demo-run"
    out = open(tmp_path / "demo.out", "w+")
    env = os.environ | {"PYTHONUNBUFFERED": "1", "SDL_VIDEODRIVER": "offscreen",
                        "KIVY_HOME": str(tmp_path / ".kivy")}
    demo = subprocess.Popen([*CLI, "demo", "--kiosk", "--run-dir", str(run), *WEB], stdout=out,
                            stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(lambda: "ready" in (tmp_path / "demo.out").read_text(), timeout=30,
                 what="demo ready")
        barcode = re.search(r"libedge tap --wait 0 scanner (\S+)",
                            (tmp_path / "demo.out").read_text()).group(1)
        kiosk_log = run / "logs" / "kiosk-1.log"
        wait_for(lambda: "central is serving" in kiosk_log.read_text(), timeout=30,
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
        start = re.search(r"libedge admin (form start .*)", (tmp_path / "demo.out").read_text())
        pad_log = run / "logs" / "pad-1.log"
        wait_for(lambda: "central is serving" in pad_log.read_text(), timeout=30,
                 what="the pad reaches central")
        started = libedge("admin", *start.group(1).split())
        assert started.returncode == 0, started.stdout + started.stderr
        wait_for(lambda: "revision 1 shown" in pad_log.read_text(), what="the form on the pad")
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(30)
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
def test_demo_stops_everything_when_its_output_is_gone(tmp_path, sig):
    """`make demo | tee log`, then Ctrl-C: tee dies too, and the demo must still stop all."""
    run = tmp_path / "demo-run"
    err = open(tmp_path / "demo.err", "w+")
    demo = subprocess.Popen([*CLI, "demo", "--no-kiosk", "--run-dir", str(run), *WEB],
                            stdout=subprocess.PIPE, stderr=err,
                            env=os.environ | {"PYTHONUNBUFFERED": "1"})
    ready = threading.Event()
    threading.Thread(target=lambda: any(line.strip() == b"ready" for line in demo.stdout)
                     and ready.set(), daemon=True).start()
    children: dict[int, str] = {}
    try:
        assert ready.wait(30), "demo ready"
        # a child just spawned may show an empty command line for a moment: wait for all five
        children = wait_for(lambda: (found := started_from(run, but=demo.pid)) and len(
            found) == 6 and found, what="the broker, central, the web pages, lock-1, lock-2 and"
                                        " returnbox-1")
        assert sum("mosquitto" in cmd for cmd in children.values()) == 1, children
        demo.stdout.close()  # tee is gone
        demo.send_signal(sig)
        code = demo.wait(30)
        wait_for(lambda: not children.keys() & started_from(run, but=demo.pid).keys(),
                 what=f"the demo's broker and daemons gone: {children}")
        assert code == 0
    finally:
        demo.kill()
        for pid in started_from(run, but=demo.pid):   # whatever is left, known or not
            os.kill(pid, signal.SIGKILL)
    text = (tmp_path / "demo.err").read_text()
    assert "Traceback" not in text and "Exception ignored" not in text, text
