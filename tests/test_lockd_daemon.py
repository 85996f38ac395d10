"""lockd through its real seams: simulated reader socket, gpiozero MockFactory pins, real broker."""

import time

import msgspec
import pytest
from click.testing import CliRunner
from gpiozero.pins.mock import MockFactory

from central import commands, fleet
from central.circulation import allowlist
from edge_common.cardid import card_hash
from edge_common.readers import CardRead, send_sim_tap
from libedge_cli.main import cli
from lockd.config import LockdConfig
from lockd.daemon import LockDaemon
from tests.harness import device_parts, wait_for

RELAY, CONTACT, EXIT, FIRE, GREEN, RED, FEEDBACK = 17, 27, 22, 21, 5, 6, 23


def add_card(db, uid, lock=None, **patron):
    """Give a new patron a card; with `lock`, wait until the card reached its replica."""
    with db.atomic():
        pid = db.execute(
            "INSERT INTO patrons (category, blocked, valid_until, is_staff) VALUES (?,?,?,?)",
            [patron.get("category", "adult"), patron.get("blocked", 0),
             patron.get("valid_until"), patron.get("staff", 0)]).lastrowid
        db.execute("INSERT INTO cards VALUES (?, ?, 'city', 1)", [uid, pid])
        allowlist.refresh_patron(db, pid)
    if lock is not None:
        key = card_hash(lock.key, uid)
        wait_for(lambda: lock.runtime.lookup("allowlist", key), what="card replicated")
    return pid


def build_lock(net, tmp_path, port=None, **door) -> LockDaemon:
    """An unstarted lockd with one toilet door on MockFactory pins, through `port` if given."""
    key = fleet.enrol(net.db, "lock-1", net.site, "lockd")
    device, mqtt, outbox = device_parts(net.broker, tmp_path, "lock-1", net.site, "lockd",
                                        net.card_key, port=port, command_key=key,
                                        ack_timeout=2.0)
    raw = {
        "device": msgspec.to_builtins(device), "mqtt": msgspec.to_builtins(mqtt),
        "outbox": msgspec.to_builtins(outbox), "gpio": {"emergency_pin": FIRE},
        "doors": [{"id": "wc", "kind": "toilet", "relay_pin": RELAY, "contact_pin": CONTACT,
                   "exit_pin": EXIT, "green_led_pin": GREEN, "red_led_pin": RED,
                   "unlock_seconds": 0.5, "held_open_seconds": 1.0,
                   "reader": {"kind": "sim", "socket": str(tmp_path / "wc.sock")}, **door}],
    }
    factory = MockFactory()
    daemon = LockDaemon(msgspec.convert(raw, LockdConfig), factory)
    factory.pin(CONTACT).drive_low()   # door shut
    daemon.factory = factory
    daemon.socket = str(tmp_path / "wc.sock")
    return daemon


def start_lock(net, tmp_path, port=None, **door) -> LockDaemon:
    """A started lockd (see build_lock) whose allow-list has been synced."""
    daemon = build_lock(net, tmp_path, port, **door)
    daemon.start()
    wait_for(lambda: daemon.runtime.synced_at("allowlist"), what="allow-list synced")
    return daemon


@pytest.fixture
def lock(net, tmp_path):
    """lockd with central running."""
    net.start_central()
    daemon = start_lock(net, tmp_path)
    yield daemon
    daemon.stop()


def relay(lock) -> bool:
    return lock.factory.pin(RELAY).state == 1


def decisions(net):
    return [r[0] for r in net.db.execute("SELECT result FROM access_log ORDER BY rowid")]


def test_tap_grants_pulses_the_relay_and_logs_at_central(net, lock):
    add_card(net.db, "04A1B2C3", lock)
    send_sim_tap(lock.socket, "04A1B2C3")
    wait_for(lambda: relay(lock), what="relay energised")
    wait_for(lambda: not relay(lock), timeout=3, what="relay released after unlock time")
    wait_for(lambda: decisions(net) == ["granted"], what="decision at central")
    send_sim_tap(lock.socket, "DEADBEEF")
    wait_for(lambda: decisions(net) == ["granted", "card_unknown"])
    assert not relay(lock)


def test_tap_command_prints_what_the_door_decided(net, lock):
    add_card(net.db, "04A1B2C3", lock)
    add_card(net.db, "04D4E5F6", lock, blocked=1)

    def tap(uid):
        return CliRunner().invoke(cli, ["tap", "--socket", lock.socket, "wc", uid])

    granted = tap("04A1B2C3")
    assert (granted.exit_code, granted.output) == (0, "granted\n")
    refused = tap("04D4E5F6")
    assert lock.doors["wc"].last_result not in ("granted", "-")
    assert (refused.exit_code, refused.output) == (
        1, f"refused: {lock.doors['wc'].last_result}\n")
    wait_for(lambda: len(decisions(net)) == 2, what="both decisions at central")
    assert decisions(net)[1] == lock.doors["wc"].last_result


def test_card_blocked_at_central_is_refused_at_the_door(net, lock):
    """How fast is `make bench`'s figure (block → refused p99 ~13 ms); here, that it happens."""
    pid = add_card(net.db, "04D4E5F6", lock)
    send_sim_tap(lock.socket, "04D4E5F6")
    wait_for(lambda: decisions(net) == ["granted"])
    with net.db.atomic():
        net.db.execute("UPDATE patrons SET blocked = 1 WHERE id = ?", [pid])
        allowlist.refresh_patron(net.db, pid)
    wait_for(lambda: lock.present("wc", _read("04D4E5F6")) == "patron_blocked",
             interval=0.02, what="the door refuses the blocked card")


def _read(uid):
    return CardRead(uid=uid, kind="uid", reader="test", at=time.monotonic())


def test_forced_door_and_held_open_raise_alarms(net, lock):
    lock.factory.pin(CONTACT).drive_high()   # opened without a grant
    wait_for(lambda: net.db.execute(
        "SELECT alarm FROM door_alarms WHERE active = 1").fetchall() == [("door_forced",)],
        what="forced alarm at central")
    wait_for(lambda: ("door_held_open",) in net.db.execute(
        "SELECT alarm FROM door_alarms WHERE active = 1").fetchall(), timeout=5,
        what="held-open alarm")
    lock.factory.pin(CONTACT).drive_low()
    wait_for(lambda: ("door_held_open", 0) in net.db.execute(
        "SELECT alarm, active FROM door_alarms").fetchall(), what="held-open cleared")


def test_exit_button_always_releases_even_in_lockdown(net, lock):
    nonce = commands.issue(net.db, "lock-1", "lockdown", {"active": True})
    wait_for(lambda: net.db.execute("SELECT outcome FROM command_results WHERE nonce = ?",
                                    [nonce]).fetchall() == [("ok",)])
    add_card(net.db, "04FF0001", lock, staff=1)
    wait_for(lambda: lock.present("wc", _read("04FF0001")) == "lockdown")
    lock.factory.pin(EXIT).drive_low()
    wait_for(lambda: relay(lock), what="exit releases the door")
    lock.factory.pin(EXIT).drive_high()


def test_fire_alarm_releases_and_is_reported(net, lock):
    lock.factory.pin(FIRE).drive_low()
    wait_for(lambda: relay(lock), what="released on fire alarm")
    time.sleep(1.0)
    assert relay(lock)
    wait_for(lambda: ("emergency_release", 1) in net.db.execute(
        "SELECT alarm, active FROM door_alarms").fetchall())
    lock.factory.pin(FIRE).drive_high()
    wait_for(lambda: not relay(lock), what="locked again after the alarm")


def test_remote_open_once_and_replay_refused(net, lock):
    nonce = commands.issue(net.db, "lock-1", "open", {"door": "wc", "seconds": 1})
    wait_for(lambda: relay(lock), what="remote open")
    wait_for(lambda: net.db.execute("SELECT outcome FROM command_results WHERE nonce = ?",
                                    [nonce]).fetchall() == [("ok",)])
    net.db.execute("UPDATE commands SET sent_at = NULL WHERE nonce = ?", [nonce])
    wait_for(lambda: net.db.execute("SELECT outcome FROM command_results WHERE nonce = ?",
                                    [nonce]).fetchall() == [("ok",), ("command_replayed",)])


def test_status_shows_doors(net, lock):
    add_card(net.db, "04A1B2C3", lock)
    send_sim_tap(lock.socket, "04A1B2C3")
    wait_for(lambda: decisions(net) == ["granted"])
    lock.runtime.refresh_status()
    body = wait_for(lambda: (row := net.db.execute(
        "SELECT body FROM device_status WHERE dev = 'lock-1'").fetchone()) and (
        b := msgspec.json.decode(row[0])["body"]) and b.get("doors", {}).get("wc", {}).get(
        "result") == "granted" and b)
    assert body["doors"]["wc"]["inside"] == 1


def active_alarms(net):
    return {a for (a,) in net.db.execute(
        "SELECT a.alarm FROM door_alarms a WHERE a.active = 1 AND a.rowid = (SELECT max(b.rowid)"
        " FROM door_alarms b WHERE b.alarm = a.alarm)")}


def test_relay_fault_when_the_feedback_contact_disagrees(net, tmp_path):
    net.start_central()
    lock = start_lock(net, tmp_path, relay_feedback_pin=FEEDBACK, relay_feedback_ms=150)
    try:
        add_card(net.db, "04A1B2C3", lock)
        time.sleep(0.5)
        assert active_alarms(net) == set()                   # relay off, contact open: fine
        lock.factory.pin(FEEDBACK).drive_low()               # contact closed: relay welded
        wait_for(lambda: "relay_fault" in active_alarms(net), what="welded relay alarm")
        assert "wc:relay_fault" in lock.runtime.health().alarms  # and in the retained status
        lock.factory.pin(FEEDBACK).drive_high()
        wait_for(lambda: "relay_fault" not in active_alarms(net), what="fault cleared")
        send_sim_tap(lock.socket, "04A1B2C3")                # relay on, contact never closes
        wait_for(lambda: relay(lock), what="relay energised")
        wait_for(lambda: "relay_fault" in active_alarms(net), what="dead relay alarm")
        wait_for(lambda: "relay_fault" not in active_alarms(net), timeout=3,
                 what="cleared once the relay is off again")
    finally:
        lock.stop()


def test_a_door_whose_list_got_too_old_offline_refuses_with_list_stale(net, tmp_path):
    from tests.proxy import Proxy

    net.start_central()
    proxy = Proxy(net.broker.port)
    lock = start_lock(net, tmp_path, port=proxy.port,
                      policy={"max_list_age": 5.0, "staff_always": False})
    try:
        add_card(net.db, "04A1B2C3", lock)
        assert lock.present("wc", _read("04A1B2C3")) == "granted"   # just synced
        proxy.cut("drop")
        wait_for(lambda: lock.present("wc", _read("04A1B2C3")) == "list_stale",
                 interval=0.2, what="the door stops trusting its old list")
    finally:
        lock.stop()
        proxy.close()


def test_an_erased_patron_vanishes_from_the_door(net, lock):
    from central.circulation import lifecycle
    from central.circulation.store import Store

    pid = add_card(net.db, "04A1B2C3", lock)
    hashed = card_hash(lock.key, "04A1B2C3")
    assert lock.present("wc", _read("04A1B2C3")) == "granted"
    lifecycle.erase(Store(net.db), pid)
    wait_for(lambda: lock.runtime.lookup("allowlist", hashed) is None,
             what="the card gone from the door's copy")
    assert lock.present("wc", _read("04A1B2C3")) == "card_unknown"
    assert not net.db.execute("SELECT count(*) FROM card_hashes").fetchone()[0]
