"""`make demo`: a private broker, central on SQLite with sample cards, two simulated locks and,
where there is a screen, a kiosk."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click
import sqlite_utils

from central import fleet
from central.circulation import branches, sample, signin, sites
from central.circulation.store import Store
from central.store import open_store
from provisioning.broker import Account, Broker, free_port

SITE = sample.DEMO_SITE
LOCKS = {"lock-1": [("toilet-1", "toilet", 17), ("reading-room", "reading_room", 27)],
         "lock-2": [("entrance", "entrance", 17)]}


WEB_PASSWORD = "libedge-demo"   # the demo's staff sign in to the web pages with it


def _sample_library(db: sqlite_utils.Database) -> None:
    s = Store(db)
    if not db.execute("SELECT count(*) FROM branches").fetchone()[0]:
        sample.tiny(s)
        branches.add_staff(s, "facilities", "Facilities", "facilities", [SITE])
        for staff_id in ("facilities", "admin"):
            signin.set_password(s, staff_id, WEB_PASSWORD)


def _web_port() -> int:
    """8080 when it is free here, else any free port."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 8080))
        except OSError:
            return free_port()
    return 8080


def _mqtt(broker: Broker, account: Account) -> str:
    return (f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\n'
            f'username = "{account.username}"\npassword = "{account.password}"\n')


@dataclass(frozen=True)
class Keys:
    """The site's card key and each device's command key, as enrolment gave them."""

    card: str
    commands: dict[str, str]


def _device(root: Path, broker: Broker, account: Account, kind: str, keys: Keys) -> str:
    dev = account.username
    return (f'[device]\nid = "{dev}"\nsite = "{SITE}"\nkind = "{kind}"\n'
            f'data_dir = "{root / "devices" / dev}"\ncard_key = "{keys.card}"\n'
            f'command_key = "{keys.commands[dev]}"\nstatus_interval = 5.0\n\n'
            + _mqtt(broker, account))


def _lock_config(root: Path, broker: Broker, account: Account, keys: Keys) -> Path:
    dev = account.username
    text = _device(root, broker, account, "lockd", keys) + '\n[gpio]\npin_factory = "mock"\n'
    for door, kind, pin in LOCKS[dev]:
        text += (f'\n[[doors]]\nid = "{door}"\nkind = "{kind}"\nrelay_pin = {pin}\n'
                 f'unlock_seconds = 3.0\nreader = {{ kind = "sim", socket = '
                 f'"{root / "doors" / f"{door}.sock"}", name = "{door}" }}\n')
        if kind == "toilet":   # inside the building: open on closed days (evening events)
            text += 'schedule = { on_closed_days = "open" }\n'
    path = root / f"{dev}.toml"
    path.write_text(text)
    return path


def _kiosk_config(root: Path, broker: Broker, account: Account, keys: Keys) -> Path:
    text = (_device(root, broker, account, "kiosk", keys)
            + '\n[kiosk]\nlibrary = "City Library"\nbranch_name = "Central Library"\n'
              'fullscreen = false\n'
            + f'\n[card_reader]\nkind = "sim"\nsocket = "{root / "doors" / "kiosk.sock"}"\n'
            + f'\n[scanner]\nkind = "sim"\nsocket = "{root / "doors" / "scanner.sock"}"\n'
            + '\n[printer]\nkind = "dummy"\n\n[payment]\nkind = "simulated"\n')
    path = root / "kiosk-1.toml"
    path.write_text(text)
    return path


def has_screen() -> bool:
    """Whether a kiosk window can be shown here."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("SDL_VIDEODRIVER"))


def run(root: Path, duration: float | None, kiosk: bool | None = None,
        web_port: int | None = None) -> None:
    """Start everything under `root`, print how to use it, stop it all on Ctrl-C, SIGTERM or
    SIGHUP.

    `kiosk`: run a kiosk window too (default: when there is a screen); `web_port`: where the
    staff web pages listen (default: 8080 when free, else any free port).
    """
    kiosk = has_screen() if kiosk is None else kiosk
    root = root.resolve()
    for sub in ("doors", "devices", "logs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    broker = Broker(root / "broker")
    central = broker.add(Account("central-1", secrets.token_urlsafe(16), service=True))
    locks = [broker.add(Account(d, secrets.token_urlsafe(16), site=SITE)) for d in LOCKS]
    kiosks = [broker.add(Account("kiosk-1", secrets.token_urlsafe(16), site=SITE))] \
        if kiosk else []
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGHUP):  # SIGHUP: the terminal was closed
        signal.signal(sig, lambda *_: stopping.append(1))
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        broker.start()
        web = f"127.0.0.1:{web_port or _web_port()}"
        shelf = _start_daemons(root, broker, central, locks, kiosks, procs, web)
        _wait_for_web(web, procs["web"])
        _banner(root, broker, shelf if kiosks else None, web)
        end = time.monotonic() + duration if duration else None
        while not stopping and (end is None or time.monotonic() < end):
            for name, proc in procs.items():
                if proc.poll() is not None:
                    raise click.ClickException(
                        f"{name} exited with {proc.returncode}; see {root}/logs/{name}.log")
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        # Stopping must not depend on the terminal: `make demo | tee log` loses its pipe to the
        # same Ctrl-C, and a second Ctrl-C must not cut the stopping short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _say("\nstopping…")
        _stop(procs, broker)
        _say("stopped")


def _start_daemons(root: Path, broker: Broker, central: Account, locks: list[Account],
                   kiosks: list[Account], procs: dict[str, subprocess.Popen[bytes]],
                   web: str) -> list[str]:
    """Enrol the devices, write every config and start central, the web pages (at `web`,
    HOST:PORT) and the devices into `procs`; returns barcodes of books on the shelf."""
    db = open_store(str(root / "central.db"))
    keys = Keys(sites.open_site(db, SITE), {})
    for lock in locks:
        keys.commands[lock.username] = fleet.enrol(db, lock.username, SITE, "lockd")
    for k in kiosks:
        keys.commands[k.username] = fleet.enrol(db, k.username, SITE, "kiosk")
    _sample_library(db)
    shelf = [b for (b,) in db.execute(
        "SELECT barcode FROM items WHERE home_branch = ? AND at_branch = ? AND category = 'book'"
        " AND status = 'available' AND id NOT IN (SELECT item_id FROM loans WHERE returned_at"
        " IS NULL) ORDER BY id LIMIT 3", [SITE, SITE]).fetchall()]
    db.conn.close()
    (root / "central.toml").write_text(
        f'[central]\ndb = "{root / "central.db"}"\nworker = "central-1"\n\n'
        + _mqtt(broker, central))
    commands = {"central": ["central.service", "--config", str(root / "central.toml")],
                "web": ["libedge_cli", "web", "--db", str(root / "central.db"), "--listen", web]}
    for lock in locks:
        commands[lock.username] = ["lockd.daemon", "--config",
                                   str(_lock_config(root, broker, lock, keys))]
    for k in kiosks:
        commands[k.username] = ["kiosk.daemon", "--config",
                                str(_kiosk_config(root, broker, k, keys))]
    for name, args in commands.items():
        procs[name] = subprocess.Popen([sys.executable, "-m", *args],
                                       stdout=open(root / "logs" / f"{name}.log", "ab"),
                                       stderr=subprocess.STDOUT)
    return shelf


def _wait_for_web(web: str, proc: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    """Wait until the web pages answer (the banner promises them), or fail if they cannot."""
    end = time.monotonic() + seconds
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # never a proxy
    while time.monotonic() < end and proc.poll() is None:
        try:
            with direct.open(f"http://{web}/login", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise click.ClickException(f"the web pages did not start at {web}; see logs/web.log")


def _stop(procs: dict[str, subprocess.Popen[bytes]], broker: Broker) -> None:
    """Stop the devices, then central (so it takes their last events), then the broker."""
    try:
        for group in ([n for n in procs if n != "central"], ["central"]):
            for name in group:
                if procs[name].poll() is None:
                    procs[name].terminate()
            for name in group:
                try:
                    procs[name].wait(10)
                except subprocess.TimeoutExpired:
                    procs[name].kill()
    finally:
        broker.stop()


def _say(text: str) -> None:
    """Print, unless stdout is gone (a closed pipe or terminal); later output then goes nowhere
    instead of failing again at exit."""
    try:
        click.echo(text)
    except OSError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


KIOSK = """The kiosk window (kiosk-1): tap a card there, then scan items from the shelf
({0}, {1}, {2}):
    libedge tap --wait 0 kiosk 04A1B2C3
    libedge tap --wait 0 scanner {0}"""
NO_KIOSK = """No screen here, so no kiosk window (run `libedge demo --kiosk` where there is one;
`python -m kiosk.screenshots --out shots` draws every kiosk screen offscreen)."""


def _banner(root: Path, broker: Broker, shelf: list[str] | None, web: str) -> None:
    db = root / "central.db"
    doors = ", ".join(d for ds in LOCKS.values() for d, _, _ in ds)
    cards = "\n".join(f"    {uid}  {what}" for uid, what, *_ in sample.DEMO_CARDS)
    click.echo(f"""
libedge demo is running (state in {root})
  broker   mosquitto on 127.0.0.1:{broker.port} (per-device passwords and ACL)
  central  SQLite store {db}
  locks    lock-1, lock-2 with simulated readers and relays (gpiozero MockFactory)
  doors    {doors}
  web      http://{web}/ (staff pages: sign in as facilities or admin, password {WEB_PASSWORD})

Tap a card at a door (in another terminal, with .venv/bin on PATH):
    libedge tap toilet-1 04A1B2C3      (prints granted, or refused: and the reason)
Sample cards:
{cards}
{KIOSK.format(*shelf) if shelf else NO_KIOSK}
Watch the access log:         libedge admin access-log --db {db} -f
See the devices:              libedge status --db {db}
Block a card (doors refuse within seconds):
    libedge admin card block --db {db} 04A1B2C3
The circulation store (a small generated library, branch "center"):
    libedge admin patron show 1 --branch center --db {db}
    libedge admin stats --from {date.today().replace(day=1)} --to {date.today()} --db {db}
    libedge admin --help
Logs: {root}/logs/   Stop: Ctrl-C
ready""", )
