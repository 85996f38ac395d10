"""A door lock for tests: lockd on gpiozero MockFactory pins against the test network, cards
at central, and what central and the pins saw of it."""

import secrets
import time
from datetime import UTC, datetime, timedelta

import msgspec
from gpiozero.pins.mock import MockFactory

from central import commands, fleet
from central.circulation import allowlist
from edge_common.cardid import card_hash
from edge_common.readers import CardRead
from lockd.config import LockdConfig
from lockd.daemon import LockDaemon
from tests.harness import device_parts, wait_for

RELAY, CONTACT, EXIT, FIRE, GREEN, RED, FEEDBACK, TAMPER = 17, 27, 22, 21, 5, 6, 23, 24
UNLOCK = 0.5  # the test door's unlock time, seconds


def add_card(db, uid, lock=None, **patron):
    """Give a new patron a card; with `lock`, wait until the card reached its replica."""
    with db.transaction():
        pid = db.execute(
            "INSERT INTO patrons (category, blocked, valid_until, is_staff) VALUES (?,?,?,?)"
            " RETURNING id", [patron.get("category", "adult"), patron.get("blocked", 0),
                              patron.get("valid_until"), patron.get("staff", 0)]).fetchone()[0]
        db.execute("INSERT INTO cards VALUES (?, ?, 'city', 1)", [uid, pid])
        allowlist.refresh_patron(db, pid)
    if lock is not None:
        key = card_hash(lock.key, uid)
        wait_for(lambda: lock.runtime.lookup("allowlist", key), what="card replicated")
    return pid


def build_lock(net, tmp_path, port=None, clock=None, more_doors=(), housing_open=False,
               outbox_limits=None, **door) -> LockDaemon:
    """An unstarted lockd with one toilet door `wc` (plus `more_doors`) on MockFactory pins,
    through `port` if given, on `clock` if given, with `outbox_limits` (OutboxConfig fields);
    the door is shut, its housing closed unless `housing_open` (a tamper switch's input rests
    open)."""
    key = fleet.enrol(net.db, "lock-1", net.site, "lockd")
    device, mqtt, outbox = device_parts(net.broker, tmp_path, "lock-1", net.site, "lockd",
                                        net.card_key, port=port, command_key=key,
                                        **{"ack_timeout": 2.0, **(outbox_limits or {})})
    raw = {
        "device": msgspec.to_builtins(device), "mqtt": msgspec.to_builtins(mqtt),
        "outbox": msgspec.to_builtins(outbox), "gpio": {"emergency_pin": FIRE},
        "doors": [{"id": "wc", "kind": "toilet", "relay_pin": RELAY, "contact_pin": CONTACT,
                   "exit_pin": EXIT, "green_led_pin": GREEN, "red_led_pin": RED,
                   "unlock_seconds": UNLOCK, "held_open_seconds": 1.0,
                   "reader": {"kind": "sim", "socket": str(tmp_path / "wc.sock")}, **door},
                  *more_doors],
    }
    factory = MockFactory()
    cfg = msgspec.convert(raw, LockdConfig)
    daemon = LockDaemon(cfg, factory) if clock is None else LockDaemon(cfg, factory, clock)
    factory.pin(CONTACT).drive_low()   # door shut
    if not housing_open:
        factory.pin(TAMPER).drive_low()    # housing closed (when the door has a tamper switch)
    daemon.factory = factory
    daemon.socket = str(tmp_path / "wc.sock")
    return daemon


def start_lock(net, tmp_path, port=None, **kw) -> LockDaemon:
    """A started lockd (see build_lock) whose allow-list has been synced."""
    daemon = build_lock(net, tmp_path, port, **kw)
    daemon.start()
    wait_for(lambda: daemon.runtime.synced_at("allowlist"), what="allow-list synced")
    return daemon


def read(uid: str) -> CardRead:
    """A card read as the entry reader hands it to the lock, now."""
    return CardRead(uid=uid, kind="uid", reader="test", at=time.monotonic())


def relay(lock, pin: int = RELAY) -> bool:
    """Whether the relay is energised right now (for states that last, not for pulses)."""
    return lock.factory.pin(pin).state == 1


def pin_changes(lock, pin: int = RELAY) -> list[bool]:
    """Every state the relay took since the lock was built, from the mock pin's own history
    (a pulse shorter than a test thread's time slice is never missed)."""
    return [bool(s.state) for s in lock.factory.pin(pin).states[1:]]


def pulses(lock, pin: int = RELAY) -> list[float]:
    """How long each finished release of the relay lasted, from the pin's recorded history."""
    history = lock.factory.pin(pin).states
    return [off.timestamp for on, off in zip(history, history[1:], strict=False)
            if on.state and not off.state]


def steps(lock) -> list[float]:
    """From now on, the monotonic time at the end of every step of the lock's deciding thread
    (a step drives the relays and raises time alarms): a positive signal that it looked."""
    seen: list[float] = []
    reconcile = lock._reconcile

    def step() -> None:
        reconcile()
        seen.append(time.monotonic())

    lock._reconcile = step
    return seen


def looked_after(seen: list[float], moment: float) -> None:
    """Wait until the lock finished a step that began after `moment`."""
    wait_for(lambda: len(seen) > 1 and seen[-2] > moment, what="a lock step after the moment")


def decisions(net) -> list[str]:
    """The door decisions central logged, oldest first."""
    return [r[0] for r in net.db.execute("SELECT result FROM access_log ORDER BY id")]


def alarm_changes(net, alarm: str) -> list[int]:
    """How central saw `alarm` go on (1) and off (0), oldest first."""
    return [r[0] for r in net.db.execute(
        "SELECT active FROM door_alarms WHERE alarm = ? ORDER BY id", [alarm])]


def active_alarms(net) -> set[str]:
    """The door alarms central shows as open (the latest change of each is a raise)."""
    return {a for (a,) in net.db.execute(
        "SELECT a.alarm FROM door_alarms a WHERE a.active = 1 AND a.id = (SELECT max(b.id)"
        " FROM door_alarms b WHERE b.alarm = a.alarm)")}


def status(net, dev: str = "lock-1") -> dict:
    """The lock's (or `dev`'s) latest retained status as central keeps it ({} before the
    first)."""
    row = net.db.execute("SELECT body FROM device_status WHERE dev = ?", [dev]).fetchone()
    return msgspec.json.decode(row[0])["body"] if row else {}


def command(net, name: str, checked: bool = True, dev: str = "lock-1",
            **args) -> tuple[str, dict]:
    """Have central send the lock (or `dev`) a signed command; wait for (outcome, result) it
    reported.

    `checked=False` queues it as a central of another version might, without checking the
    name or the arguments against this version's declarations."""
    nonce = commands.issue(net.db, dev, name, args) if checked else unchecked(net, name, args)
    row = wait_for(lambda: net.db.execute(
        "SELECT outcome, result FROM command_results WHERE nonce = ?", [nonce]).fetchone(),
        what=f"{dev}'s answer to {name}")
    return row[0], msgspec.json.decode(row[1])


def unchecked(net, name: str, args: dict) -> str:
    """Queue a command at central as it is; return its nonce."""
    nonce, now = secrets.token_hex(16), datetime.now(UTC)
    with net.db.transaction():
        net.db.execute(
            "INSERT INTO commands (nonce, dev, name, args, expires, issued_at)"
            " VALUES (?, 'lock-1', ?, ?, ?, ?)",
            [nonce, name, msgspec.json.encode(args),
             (now + timedelta(seconds=60)).isoformat(), now.isoformat()])
    return nonce
