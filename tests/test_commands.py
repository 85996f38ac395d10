"""Commands carry an expiry and a nonce: stale, replayed and malformed ones are refused."""

import sqlite3
import time
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from central import commands
from edge_common.commands import MAX_TTL, CommandGuard, CommandRefused, arguments
from edge_common.errors import EdgeError
from edge_common.protocol.commands import Command, SweepArgs, sign
from tests.harness import wait_for

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
KEY = bytes(range(32))


def body(*, key: bytes = KEY, **kw):
    """A command for lock-1 signed with `key` (fields in `kw` replace the defaults first)."""
    raw = {"dev": "lock-1", "name": "open", "nonce": "n" * 32,
           "expires": (NOW + timedelta(seconds=30)).isoformat()} | kw
    try:
        return msgspec.to_builtins(sign(key, msgspec.convert(raw, Command)))
    except msgspec.ValidationError:
        return raw     # malformed on purpose: sent as it is


@pytest.fixture
def guard(tmp_path):
    """A command guard for lock-1 with KEY, in tmp_path."""
    g = CommandGuard(str(tmp_path / "c.db"), "lock-1", KEY)
    yield g
    g.close()


def test_fresh_command_is_admitted_once_even_across_restart(guard, tmp_path):
    """A command runs once; its replay is refused, also by a guard opened after a restart."""
    assert guard.admit(body(), NOW).name == "open"
    with pytest.raises(CommandRefused) as err:
        guard.admit(body(), NOW + timedelta(seconds=1))
    assert err.value.code == "command_replayed"
    again = CommandGuard(str(tmp_path / "c.db"), "lock-1", KEY)
    with pytest.raises(CommandRefused):
        again.admit(body(), NOW + timedelta(seconds=2))
    again.close()


def test_a_command_runs_until_just_before_its_expiry_and_never_from_that_instant_on(guard):
    """Refused as command_expired at its `expires` exactly and after; admitted a microsecond
    before (so a `<` for the `<=` in the check fails here), the refusals burnt no nonce."""
    expires = NOW + timedelta(seconds=30)
    for now in (expires, expires + timedelta(seconds=1)):
        with pytest.raises(CommandRefused) as err:
            guard.admit(body(expires=expires.isoformat()), now)
        assert err.value.code == "command_expired"
    late = expires - timedelta(microseconds=1)
    assert guard.admit(body(expires=expires.isoformat()), late).name == "open"


@pytest.mark.parametrize("changes, code", [
    ({"expires": (NOW + MAX_TTL).isoformat()}, None),
    ({"expires": (NOW + MAX_TTL + timedelta(seconds=1)).isoformat()}, "command_invalid"),
    ({"expires": (NOW + timedelta(hours=2)).isoformat()}, "command_invalid"),
    ({"nonce": "short"}, "command_invalid"),
    ({"name": 5}, "command_invalid"),
    ({"expires": "2026-11-23T20:00:30"}, "command_invalid"),
    ({"sudo": True}, "command_invalid"),
])
def test_bad_commands_are_refused_with_codes(guard, changes, code):
    """Expiring MAX_TTL ahead runs; further ahead, a short nonce, a bad or unknown field: refused
    as command_invalid."""
    if code is None:
        assert guard.admit(body(**changes), NOW).name == "open"
        return
    with pytest.raises(CommandRefused) as err:
        guard.admit(body(**changes), NOW)
    assert err.value.code == code


def test_only_central_signing_for_this_device_is_obeyed(guard, tmp_path):
    """Wrong key, changed after signing, unsigned, another lock's copy, no key: each refused."""
    other = CommandGuard(str(tmp_path / "other.db"), "lock-2", bytes(32))
    keyless = CommandGuard(str(tmp_path / "keyless.db"), "lock-1", None)
    forged = body() | {"args": {"door": "entrance"}}           # changed after signing
    cases = [(guard, body(key=b"x" * 32), "command_unauthenticated"),
             (guard, forged, "command_unauthenticated"),
             (guard, body() | {"mac": ""}, "command_unauthenticated"),
             (other, body(key=bytes(32)), "command_wrong_device"),  # a copy for lock-1
             (keyless, body(), "command_key_missing")]
    try:
        for g, cmd, code in cases:
            with pytest.raises(CommandRefused) as err:
                g.admit(cmd, NOW)
            assert err.value.code == code
        assert guard.admit(body(), NOW).args == {}    # the refusals did not burn the nonce
    finally:
        other.close()
        keyless.close()


@pytest.fixture
def helsinki(monkeypatch):
    """The process's local time is Helsinki's (summer time ends 2026-10-25 01:00 UTC), as a
    POSIX rule that needs no time zone database."""
    monkeypatch.setenv("TZ", "EET-2EEST,M3.5.0/3,M10.5.0/4")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_replay_is_refused_across_the_end_of_summer_time(guard, helsinki):
    """Around the clock change, a later command must not make the guard forget the nonce of an
    earlier one that is still valid, however the expiries read in local time."""
    change = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)

    def before(minutes: int) -> datetime:
        return change - timedelta(minutes=minutes)

    first = body(expires=(change + timedelta(minutes=5)).isoformat())   # 03:05 winter time
    guard.admit(first, before(5))
    guard.admit(body(nonce="m" * 32, expires=(change + timedelta(minutes=8)).isoformat()),
                before(2))                                             # at 03:58 summer time
    with pytest.raises(CommandRefused) as err:
        guard.admit(first, before(1))
    assert err.value.code == "command_replayed"


def test_a_failed_nonce_write_burns_nothing_and_leaves_the_guard_working(guard, tmp_path):
    """A write that fails inside the guard's transaction (a trigger standing in for a full
    disk) raises SQLite's error; once the disk is fine, the same command is admitted."""
    disk = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
    disk.execute("CREATE TRIGGER full BEFORE INSERT ON seen_nonces"
                 " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    with pytest.raises(sqlite3.IntegrityError):
        guard.admit(body(), NOW)
    disk.execute("DROP TRIGGER full")
    disk.close()
    assert guard.admit(body(), NOW).name == "open"


def test_an_accepted_nonce_is_on_disk_before_the_command_runs(guard):
    """The nonce record commits with synchronous=FULL: a power cut right after an accepted
    `open` cannot make the lock forget it and obey a replay after the reboot."""
    assert guard._db.execute("PRAGMA synchronous").fetchone() == (2,)    # 2 = FULL


def test_expired_nonces_are_forgotten(guard):
    """A nonce is kept only until its command expires, so the record does not grow forever."""
    guard.admit(body(), NOW)
    later = NOW + timedelta(minutes=5)
    guard.admit(body(expires=(later + timedelta(seconds=30)).isoformat()), later)
    assert guard._db.execute("SELECT count(*) FROM seen_nonces").fetchone()[0] == 1


def _queue_undeclared(db, dev: str, name: str) -> str:
    """Queue a command central would refuse to issue, as a rogue or older central might."""
    nonce = "f" * 32
    expires = (datetime.now(UTC) + timedelta(seconds=60)).isoformat()
    with db.transaction():
        db.execute("INSERT INTO commands (nonce, dev, name, args, expires, issued_at)"
                   " VALUES (?, ?, ?, '{}', ?, ?)", [nonce, dev, name, expires, expires])
    return nonce


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_command_travels_to_the_device_and_its_result_back(net):
    """Central issues, the device runs or refuses, and central keeps each outcome."""
    net.start_central()
    seen = []

    def open_door(args):
        if args.door is None:
            raise RuntimeError("a bug in the device's route")
        seen.append(args.door)
        return {"opened": args.door}

    dev = net.device("lock-1")
    dev.commands.route("open", open_door)
    dev.start()

    def outcome(nonce):
        return wait_for(lambda: net.db.execute(
            "SELECT outcome, result FROM command_results WHERE nonce = ?", [nonce]).fetchall(),
            what="command result at central")

    try:
        wait_for(lambda: dev.link.connected)
        assert outcome(commands.issue(net.db, "lock-1", "open", {"door": "d1"})) == [
            ("ok", b'{"opened":"d1"}')]
        with pytest.raises(EdgeError) as refused:
            commands.issue(net.db, "lock-1", "self_destruct")
        assert refused.value.code == "command_unknown"
        with pytest.raises(EdgeError) as refused:
            commands.issue(net.db, "lock-1", "open", {"seconds": "forever"})
        assert refused.value.code == "command_invalid"
        assert outcome(_queue_undeclared(net.db, "lock-1", "self_destruct")) == [
            ("command_unknown", b"{}")]
        assert outcome(commands.issue(net.db, "lock-1", "open", {})) == [
            ("command_failed", b"{}")]
        assert seen == ["d1"]
    finally:
        dev.stop()


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_a_captured_command_replayed_to_another_lock_or_forged_is_refused(net):
    """A spy on the wire saw lock-1's `open` and copies it onto lock-2's cmd topic within its
    expiry, then sends lock-2 a command it made itself: lock-2 obeys neither."""
    from edge_common import envelope, topics
    from tests.harness import mqtt_client

    net.start_central()
    opened: dict[str, list] = {"lock-1": [], "lock-2": []}
    devices = {}
    for name in opened:
        devices[name] = dev = net.device(name)
        dev.commands.route("open", lambda args, name=name: opened[name].append(
            msgspec.to_builtins(args)) or {})
        dev.start()
    spy = mqtt_client(net, "spy", [(topics.all_devices("cmd"), 1)], service=True)

    def outcomes(dev):
        return [r[0] for r in net.db.execute(
            "SELECT outcome FROM command_results WHERE dev = ? ORDER BY id", [dev])]

    def send(body: dict) -> None:
        spy.publish(topics.device("lock-2", "cmd"),
                    envelope.encode(envelope.make("cmd", "central-1", body)))

    try:
        wait_for(lambda: all(d.link.connected for d in devices.values()))
        commands.issue(net.db, "lock-1", "open", {"door": "wc"})
        wait_for(lambda: opened["lock-1"] == [{"door": "wc"}], what="lock-1 opened")
        captured = envelope.decode(spy.inbox.get(timeout=10).payload).body
        send(captured)
        send(dict(captured, dev="lock-2", nonce="e" * 32))
        wait_for(lambda: outcomes("lock-2") == ["command_wrong_device",
                                                "command_unauthenticated"],
                 what="both refused by lock-2 and reported")
        assert opened["lock-2"] == []
        commands.issue(net.db, "lock-2", "open", {"door": "wc"})   # central's own works
        wait_for(lambda: opened["lock-2"] == [{"door": "wc"}], what="lock-2 obeys central")
    finally:
        spy.stop()
        for dev in devices.values():
            dev.stop()


@pytest.mark.parametrize("name, args, code", [
    ("explode", {}, "command_unknown"),
    ("sweep", {}, "command_invalid"),
    ("sweep", {"room": 5}, "command_invalid"),
    ("card_key", {"key": "not hex"}, "command_invalid"),
])
def test_a_commands_arguments_are_its_declared_struct_or_refused_with_a_code(name, args, code):
    with pytest.raises(CommandRefused) as refused:
        arguments(msgspec.convert({**msgspec.to_builtins(body(name="resync")), "name": name,
                                   "args": args}, Command))
    assert refused.value.code == code and name in str(refused.value)


def test_good_arguments_come_back_typed():
    cmd = msgspec.convert({**msgspec.to_builtins(body()), "name": "sweep",
                           "args": {"room": "wc"}}, Command)
    assert arguments(cmd) == SweepArgs(room="wc")


def test_a_card_key_crosses_the_broker_masked_and_only_its_device_reads_it(guard):
    """The site's card key in a `card_key` command: the body on the wire (what a broker sees)
    holds neither the key nor any 8 bytes of it, the device it is for reads it back exactly,
    and two devices' masks of one key differ (so one device's wire tells nothing of another's)."""
    site_key = "c0ffee" * 10 + "beef"
    wire = body(name="card_key", args={"key": site_key})
    assert site_key[:16] not in msgspec.json.encode(wire).decode()
    assert all(site_key[i:i + 16] not in wire["args"]["key"] for i in range(0, 49, 2))
    assert arguments(guard.admit(wire, NOW)).key == site_key
    other = body(key=bytes(32), dev="lock-1", name="card_key", args={"key": site_key})
    assert other["args"]["key"] != wire["args"]["key"]
