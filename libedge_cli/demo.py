"""`make demo`: a private broker, central on SQLite with sample cards, two simulated locks, a
return box with a simulated belt and, where there is a screen, a kiosk."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import click

from central.circulation import branches, events, sample, settings, signin, sites, terms
from central.circulation.store import Store
from central.database import Database, is_url
from central.provision_stack import Stack
from central.staff_cli.common import store_at
from central.store import open_store
from provisioning.broker import Account, free_port
from provisioning.enrol import enrol

SITE = sample.DEMO_SITE
LOCKS = {"lock-1": [("toilet-1", "toilet", 17), ("reading-room", "reading_room", 27)],
         "lock-2": [("entrance", "entrance", 17)]}


RETURNBOX = "returnbox-1"
PAD = "pad-1"
DAEMONS = {"lockd": "lockd.daemon", "kiosk": "kiosk.daemon", "returnbox": "returnbox.daemon",
           "signpad": "signpad.daemon"}
TERMS = {
    "en": "1. Membership is personal and the card may not be lent to others.\n"
          "2. Items are borrowed for 21 days and may be renewed twice unless another member"
          " has reserved them.\n3. Late returns are charged as set out in the price list.\n"
          "4. The library keeps the member's data while the membership lasts.",
    "sl": "1. Članstvo je osebno, izkaznice ni dovoljeno posojati drugim.\n"
          "2. Gradivo si izposodite za 21 dni in ga lahko dvakrat podaljšate, če ga ni"
          " rezerviral drug član.\n3. Zamudnina se zaračuna po ceniku.\n"
          "4. Knjižnica hrani podatke člana, dokler traja članstvo.",
}
WEB_PASSWORD = "libedge-demo"   # the demo's staff sign in to the web pages with it


def _sample_library(db: Database) -> None:
    s = Store(db)
    if not db.execute("SELECT count(*) FROM branches").fetchone()[0]:
        sample.tiny(s)
        branches.add_staff(s, "facilities", "Facilities", "facilities", [SITE])
        branches.login(s, "desk", SITE)     # the desk works here: commands act at this branch
        for staff_id in ("facilities", "admin"):
            signin.set_password(s, staff_id, WEB_PASSWORD)
        terms.add(s, "2026-1", TERMS, "admin")   # what a form on the signing pad shows
        soon = datetime.combine(date.today() + timedelta(days=2), clock(17)).astimezone()
        events.add(s, SITE, "Story time", soon, "Children's corner")
        events.add(s, SITE, "Knitting club", soon + timedelta(days=5, hours=1), "Reading room")


def _web_port() -> int:
    """8080 when it is free here, else any free port."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 8080))
        except OSError:
            return free_port()
    return 8080


def _lock_config(root: Path, dev: str) -> dict[str, Any]:
    """A demo lock's config as central keeps it: simulated readers, mock pins."""
    doors: list[dict[str, Any]] = []
    for door, kind, pin in LOCKS[dev]:
        doors.append({"id": door, "kind": kind, "relay_pin": pin, "unlock_seconds": 3.0,
                      "reader": {"kind": "sim", "socket": str(root / "doors" / f"{door}.sock"),
                                 "name": door}})
        if kind == "toilet":   # inside the building: open on closed days (evening events)
            doors[-1]["schedule"] = {"on_closed_days": "open"}
    return {"gpio": {"pin_factory": "mock"}, "doors": doors}


def _kiosk_config(root: Path) -> dict[str, Any]:
    """The demo kiosk's config as central keeps it: simulated reader, scanner and payment."""
    return {"kiosk": {"library": "City Library", "branch_name": "Central Library",
                      "fullscreen": False},
            "card_reader": {"kind": "sim", "socket": str(root / "doors" / "kiosk.sock")},
            "scanner": {"kind": "sim", "socket": str(root / "doors" / "scanner.sock")},
            "printer": {"kind": "dummy"}, "payment": {"kind": "simulated"}}


def _returnbox_config(root: Path) -> dict[str, Any]:
    """The demo return box's config as central keeps it: simulated scanner, card reader and belt
    on mock pins, five bins sorted by hold, transit, attachments, children's books and the rest."""
    bins = [("holds", 5), ("transit", 8), ("children", 11), ("shelf", 14), ("later", 20)]
    return {
        "item_reader": {"kind": "sim", "socket": str(root / "doors" / "returnbox.sock"),
                        "name": "returnbox"},
        "card_reader": {"kind": "sim", "socket": str(root / "doors" / "returnbox-card.sock"),
                        "name": "returnbox-card"},
        "gpio": {"pin_factory": "mock", "entry_pin": 2, "motor_pin": 3, "estop_pin": 4},
        "bins": [{"name": name, "diverter_pin": pin, "arrival_pin": pin + 1,
                  "full_pin": pin + 2, "capacity": 20} for name, pin in bins],
        "sorting": {"fallback": "later", "sort_later": "later", "rules": [
            {"bin": "holds", "routes": ["hold_shelf"]},
            {"bin": "later", "warnings": ["attachments"]},
            {"bin": "transit", "routes": ["transit"]},
            {"bin": "children", "routes": ["reshelve"], "categories": ["children"]},
            {"bin": "shelf", "routes": ["reshelve"]}]},
        "box": {"library": "City Library", "branch_name": "Central Library",
                "travel_time": 0.5, "jam_timeout": 5.0},
        "printer": {"kind": "dummy"},
        "simulator": {"belt": True, "travel_time": 0.5},
    }


def _pad_config(root: Path) -> dict[str, Any]:
    """The demo signing pad's config as central keeps it: a simulated card reader."""
    return {"pad": {"library": "City Library", "language": "en"},
            "card_reader": {"kind": "sim", "socket": str(root / "doors" / "pad.sock"),
                            "name": "pad"}}


def has_screen() -> bool:
    """Whether the kiosk and signing pad windows can be shown here."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("SDL_VIDEODRIVER"))


def run(root: Path, duration: float | None, kiosk: bool | None = None,
        web_port: int | None = None, database: str = "") -> None:
    """Start everything under `root`, print how to use it, stop it all on Ctrl-C, SIGTERM or
    SIGHUP.

    `kiosk`: run the kiosk and signing pad windows too (default: when there is a screen);
    `web_port`: where the staff web pages listen (default: 8080 when free, else any free port);
    `database`: central's store on PostgreSQL, a postgresql:// URL (default: a SQLite file).
    """
    kiosk = has_screen() if kiosk is None else kiosk
    root = root.resolve()
    for sub in ("doors", "devices", "logs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    store = database or str(root / "central.db")
    made = store_at(store, init=True)        # made before the enrolment endpoint opens it
    if made.postgres and not settings.load(made).archive_dir:
        settings.store(made, archive_dir=str(root / "forms"))
    made.close()
    stack = Stack(root, store)
    central = stack.broker.add(Account("central-1", secrets.token_urlsafe(16), service=True))
    devices = {dev: ("lockd", _lock_config(root, dev)) for dev in LOCKS}
    devices[RETURNBOX] = ("returnbox", _returnbox_config(root))
    if kiosk:
        devices["kiosk-1"] = ("kiosk", _kiosk_config(root))
        devices[PAD] = ("signpad", _pad_config(root))
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGHUP):  # SIGHUP: the terminal was closed
        signal.signal(sig, lambda *_: stopping.append(1))
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        stack.start()
        web = f"127.0.0.1:{web_port or _web_port()}"
        shelf, lent = _start_daemons(root, store, stack, central, devices, procs, web)
        _wait_for_web(web, procs["web"])
        _banner(root, store, stack, shelf if kiosk else None, lent, web)
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
        _stop(procs, stack)
        _say("stopped")


def _start_daemons(root: Path, store: str, stack: Stack, central: Account,
                   devices: dict[str, tuple[str, dict[str, Any]]],
                   procs: dict[str, subprocess.Popen[bytes]],
                   web: str) -> tuple[list[str], list[str]]:
    """Invite the devices and let each enrol over HTTPS, as a Pi does on its first boot; start
    central, the web pages (at `web`, HOST:PORT) and the devices into `procs`; returns
    barcodes of books on the shelf and of books on loan."""
    db = open_store(store, init=True)
    sites.open_site(db, SITE)
    _sample_library(db)
    configs = {dev: enrol(stack.invite(db, dev, SITE, kind, config),
                          root / "devices" / dev / "etc", root / "devices" / dev).config
               for dev, (kind, config) in devices.items()}
    lent = [b for (b,) in db.execute(
        "SELECT i.barcode FROM items i JOIN loans l ON l.item_id = i.id WHERE l.returned_at IS"
        " NULL AND i.home_branch = ? ORDER BY l.id LIMIT 3", [SITE]).fetchall()]
    shelf = [b for (b,) in db.execute(
        "SELECT barcode FROM items WHERE home_branch = ? AND at_branch = ? AND category = 'book'"
        " AND status = 'available' AND id NOT IN (SELECT item_id FROM loans WHERE returned_at"
        " IS NULL) ORDER BY id LIMIT 3", [SITE, SITE]).fetchall()]
    db.close()
    (root / "central.toml").write_text(
        f'[central]\n{"database" if is_url(store) else "db"} = "{store}"\nworker = "central-1"\n\n'
        f'[mqtt]\nhost = "127.0.0.1"\nport = {stack.broker.port}\n'
        f'username = "{central.username}"\npassword = "{central.password}"\n')
    commands = {"central": ["central.service", "--config", str(root / "central.toml")],
                "web": ["libedge_cli", "web", "--db", store, "--listen", web]}
    for dev, (kind, _) in devices.items():
        commands[dev] = [DAEMONS[kind], "--config", str(configs[dev])]
    for name, args in commands.items():
        # each window's Kivy keeps its own home: two first starts at once race to create one
        env = os.environ | {"KIVY_HOME": str(root / "devices" / name / "kivy")}
        procs[name] = subprocess.Popen([sys.executable, "-m", *args],
                                       stdout=open(root / "logs" / f"{name}.log", "ab"),
                                       stderr=subprocess.STDOUT, env=env)
    return shelf, lent


def _wait_for_web(web: str, proc: subprocess.Popen[bytes], seconds: float = 120.0) -> None:
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


def _stop(procs: dict[str, subprocess.Popen[bytes]], stack: Stack) -> None:
    """Stop the devices and the web pages, then central (so it takes their last events), then
    the enrolment endpoint and the broker."""
    try:
        for group in ([n for n in procs if n != "central"], [n for n in procs if n == "central"]):
            for name in group:
                if procs[name].poll() is None:
                    procs[name].terminate()
            for name in group:
                try:
                    procs[name].wait(10)
                except subprocess.TimeoutExpired:
                    procs[name].kill()
    finally:
        stack.stop()


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
    libedge tap --wait 0 scanner {0}
The signing pad's window (pad-1) shows the branch's events; a card there shows the account:
    libedge tap --wait 0 pad 04A1B2C3
Start a form on it for a patron (they check the data, read the terms and sign; then see it):
    libedge admin form start --db {3} --patron 1 --kind renewal --pad pad-1 --staff desk
    libedge admin form list --db {3}              (form verify --form 1: hash and seal)"""
NO_KIOSK = """No screen here, so no kiosk or signing pad window (run `libedge demo --kiosk` where
there is one; `python -m kiosk.screenshots --out shots` and `python -m signpad.screenshots
--out shots` draw every screen offscreen)."""


def _banner(root: Path, db: str, stack: Stack, shelf: list[str] | None, lent: list[str],
            web: str) -> None:
    broker = stack.broker
    doors = ", ".join(d for ds in LOCKS.values() for d, _, _ in ds)
    cards = "\n".join(f"    {uid}  {what}" for uid, what, *_ in sample.DEMO_CARDS)
    click.echo(f"""
libedge demo is running (state in {root})
  broker   mosquitto: devices on TLS 127.0.0.1:{broker.tls_port} (central's own CA, per-device
           accounts and roles in its dynamic-security plugin), central on 127.0.0.1:{broker.port}
  enrolment  {stack.config.enrolment.url} (every device below enrolled there with a
           one-time token, as a Pi does on its first boot)
  central  {"PostgreSQL" if is_url(db) else "SQLite"} store {db}
  locks    lock-1, lock-2 with simulated readers and relays (gpiozero MockFactory)
  returns  returnbox-1 with a simulated scanner, card reader and belt with five bins
  doors    {doors}
  web      http://{web}/ (staff pages: sign in as facilities or admin, password {WEB_PASSWORD})

Tap a card at a door (in another terminal, with .venv/bin on PATH):
    libedge tap toilet-1 04A1B2C3      (prints granted, or refused: and the reason)
Sample cards:
{cards}
{KIOSK.format(*shelf, db) if shelf else NO_KIOSK}
Return a book that is on loan ({', '.join(lent)}) at the return box (prints the route and
the bin, or why it was refused):
    libedge tap returnbox {lent[0] if lent else 'BARCODE'}
A card at the box (a patron's first, for the visit's receipt; 04FF0001 opens the staff view):
    libedge tap returnbox-card 04A1B2C3
Watch the access log:         libedge admin access-log --db {db} -f
The fleet (first: export LIBEDGE_DB={db} LIBEDGE_PROVISION={stack.settings}):
    libedge admin device list                    (--json; device show lock-1)
    libedge admin device config lock-1 set door.toilet-1.policy.rate_limit_seconds=10 \\
        --staff admin                            (signed, checked and applied live)
    libedge admin device invite lock-9 --site {SITE} --kind lockd --staff admin  (QR code)
    libedge admin device revoke lock-2 --staff admin          (disconnected at once)
    libedge admin site rotate-key {SITE} --staff admin         (no card stops working)
Block a card (doors refuse within seconds):
    libedge admin card block --db {db} --staff desk 04A1B2C3
The circulation store (a small generated library, branch "center"):
    libedge admin patron show 1 --branch center --db {db}
    libedge admin stats --from {date.today().replace(day=1)} --to {date.today()} --db {db}
    libedge admin --help
Logs: {root}/logs/   Stop: Ctrl-C
ready""", )
