"""lockd through its real seams: simulated reader socket, gpiozero MockFactory pins, real broker."""

import os
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from click.testing import CliRunner

from central import commands
from central.admin_cli import admin
from central.circulation import allowlist
from edge_common.cardid import card_hash
from edge_common.protocol.packed import short_key
from edge_common.readers import send_sim_tap
from libedge_cli.main import cli
from tests.harness import PATIENCE, wait_for
from tests.locks import (
    CONTACT,
    EXIT,
    FEEDBACK,
    FIRE,
    TAMPER,
    UNLOCK,
    active_alarms,
    add_card,
    alarm_changes,
    build_lock,
    command,
    decisions,
    looked_after,
    pin_changes,
    pulses,
    read,
    relay,
    start_lock,
    status,
    steps,
)
from tests.ptypair import close_quietly, pty_pair

HALL_RELAY = 26


@pytest.fixture
def lock(net, tmp_path):
    """lockd with central running."""
    net.start_central()
    daemon = start_lock(net, tmp_path)
    yield daemon
    daemon.stop()


def test_tap_grants_pulses_the_relay_and_logs_at_central(net, lock):
    """A known card releases the door once for its unlock time; an unknown one does not."""
    add_card(net.db, "04A1B2C3", lock)
    send_sim_tap(lock.socket, "04A1B2C3")
    wait_for(lambda: pulses(lock), what="the relay pulsed")
    assert pulses(lock)[0] >= UNLOCK / 2
    wait_for(lambda: decisions(net) == ["granted"], what="decision at central")
    send_sim_tap(lock.socket, "DEADBEEF")
    wait_for(lambda: len(decisions(net)) == 2, what="the second decision at central")
    assert decisions(net) == ["granted", "card_unknown"]
    assert pin_changes(lock) == [True, False]


def test_tap_command_prints_what_the_door_decided(net, lock):
    """`libedge tap` prints the door's answer: granted (0) or refused with the reason (1)."""
    add_card(net.db, "04A1B2C3", lock)
    add_card(net.db, "04D4E5F6", lock, blocked=1)

    def tap(uid):
        return CliRunner().invoke(cli, ["tap", "--socket", lock.socket, "wc", uid])

    granted = tap("04A1B2C3")
    assert (granted.exit_code, granted.output) == (0, "granted\n")
    refused = tap("04D4E5F6")
    assert (refused.exit_code, refused.output) == (1, "refused: patron_blocked\n")
    wait_for(lambda: len(decisions(net)) == 2, what="both decisions at central")
    assert decisions(net) == ["granted", "patron_blocked"]


def test_card_blocked_at_central_is_refused_at_the_door(net, lock):
    """How fast is `make bench`'s figure (block → refused p99 ~13 ms); here, that it happens."""
    pid = add_card(net.db, "04D4E5F6", lock)
    send_sim_tap(lock.socket, "04D4E5F6")
    wait_for(lambda: decisions(net) == ["granted"])
    with net.db.transaction():
        net.db.execute("UPDATE patrons SET blocked = 1 WHERE id = ?", [pid])
        allowlist.refresh_patron(net.db, pid)
    wait_for(lambda: lock.present("wc", read("04D4E5F6")) == "patron_blocked",
             interval=0.02, what="the door refuses the blocked card")


def test_a_card_may_pass_again_only_after_the_rate_limit(net, tmp_path):
    """A door with a rate limit refuses the same card's second tap with rate_limited."""
    net.start_central()
    lock = start_lock(net, tmp_path, policy={"rate_limit_seconds": 600})
    try:
        add_card(net.db, "04A1B2C3", lock)
        add_card(net.db, "04D4E5F6", lock)
        for uid in ("04A1B2C3", "04A1B2C3", "04D4E5F6"):
            send_sim_tap(lock.socket, uid)
        wait_for(lambda: len(decisions(net)) == 3, what="three decisions at central")
        assert decisions(net) == ["granted", "rate_limited", "granted"]
    finally:
        lock.stop()


def test_forced_door_and_held_open_raise_alarms(net, lock):
    """A door opened without a grant is forced; left open past its limit it is held open."""
    lock.factory.pin(CONTACT).drive_high()   # opened without a grant
    wait_for(lambda: active_alarms(net) == {"door_forced"}, what="forced alarm at central")
    wait_for(lambda: "door_held_open" in active_alarms(net), what="held-open alarm")
    lock.factory.pin(CONTACT).drive_low()
    wait_for(lambda: alarm_changes(net, "door_held_open") == [1, 0], what="held-open cleared")


def test_clear_alarm_acknowledges_a_forced_door(net, lock):
    """A forced door is reported at once, before what the lock decides next, even when the
    door's moves and a tap queue up together (a busy lock); the alarm stays raised after the
    door shuts, until staff clear it by command."""
    gate = threading.Event()
    lock.coordinator.soon(lambda: gate.wait(PATIENCE))   # the lock is busy: what follows queues
    lock.factory.pin(CONTACT).drive_high()
    lock.factory.pin(CONTACT).drive_low()
    lock._card_read("wc", "in", read("DEADBEEF"))       # a later event than the forced door
    gate.set()
    wait_for(lambda: decisions(net) == ["card_unknown"], what="the later decision")
    assert alarm_changes(net, "door_forced") == [1]
    forced, decided = (net.db.execute(f"SELECT at FROM {table}").fetchone()[0]
                       for table in ("door_alarms", "access_log"))
    assert forced <= decided            # reported as it happened, not after the later tap
    wait_for(lambda: "wc:door_forced" in status(net).get("alarms", ()), what="alarm in status")
    assert command(net, "clear_alarm", door="wc", alarm="door_forced") == (
        "ok", {"doors": ["wc"]})
    wait_for(lambda: alarm_changes(net, "door_forced") == [1, 0], what="cleared at central")
    wait_for(lambda: "wc:door_forced" not in status(net)["alarms"], what="gone from status")


def test_exit_button_always_releases_even_in_lockdown(net, lock):
    """In lockdown every card is refused, staff too, but the exit button still opens."""
    assert command(net, "lockdown", active=True) == ("ok", {"doors": ["wc"]})
    add_card(net.db, "04FF0001", lock, staff=1)
    send_sim_tap(lock.socket, "04FF0001")
    wait_for(lambda: decisions(net) == ["lockdown"], what="the staff card refused")
    assert pin_changes(lock) == []
    lock.factory.pin(EXIT).drive_low()
    wait_for(lambda: pulses(lock), what="exit releases the door")
    lock.factory.pin(EXIT).drive_high()


def test_fire_alarm_releases_and_is_reported(net, lock):
    """The fire input keeps the door released as long as it lasts, and is an alarm at central."""
    seen = steps(lock)
    lock.factory.pin(FIRE).drive_low()
    wait_for(lambda: relay(lock), what="released on fire alarm")
    looked_after(seen, time.monotonic() + UNLOCK)     # longer than any card's release
    assert pin_changes(lock) == [True]
    wait_for(lambda: alarm_changes(net, "emergency_release") == [1], what="alarm at central")
    lock.factory.pin(FIRE).drive_high()
    wait_for(lambda: pin_changes(lock) == [True, False], what="locked again after the alarm")
    wait_for(lambda: alarm_changes(net, "emergency_release") == [1, 0], what="alarm cleared")


def test_remote_open_once_and_replay_refused(net, lock):
    """`open` releases the door once for the seconds asked; the same command again is refused."""
    nonce = commands.issue(net.db, "lock-1", "open", {"door": "wc", "seconds": 1})
    wait_for(lambda: pulses(lock), what="remote open")
    assert pulses(lock)[0] >= 0.75 > UNLOCK
    wait_for(lambda: net.db.execute("SELECT outcome FROM command_results WHERE nonce = ?",
                                    [nonce]).fetchall() == [("ok",)])
    net.db.execute("UPDATE commands SET sent_at = NULL WHERE nonce = ?", [nonce])
    wait_for(lambda: net.db.execute("SELECT outcome FROM command_results WHERE nonce = ?",
                                    [nonce]).fetchall() == [("ok",), ("command_replayed",)])
    assert len(pulses(lock)) == 1


def test_release_holds_the_door_open_until_switched_off(net, lock):
    """`release` keeps the door released past any unlock time; `release active=false` ends it."""
    seen = steps(lock)
    assert command(net, "release", door="wc") == ("ok", {"doors": ["wc"]})
    wait_for(lambda: relay(lock), what="released")
    looked_after(seen, time.monotonic() + UNLOCK)
    assert pin_changes(lock) == [True]
    assert command(net, "release", door="wc", active=False) == ("ok", {"doors": ["wc"]})
    wait_for(lambda: pin_changes(lock) == [True, False], what="locked again")


def test_commands_name_one_door_or_all_and_refusals_carry_a_code(net, tmp_path):
    """A command without a door applies to every door; an unknown door, an open in lockdown,
    and a command or arguments central did not check are refused with their codes."""
    net.start_central()
    hall = {"id": "hall", "kind": "entrance", "relay_pin": HALL_RELAY,
            "reader": {"kind": "sim", "socket": str(tmp_path / "hall.sock")}}
    lock = start_lock(net, tmp_path, more_doors=[hall])
    try:
        assert command(net, "lockdown") == ("ok", {"doors": ["wc", "hall"]})
        assert command(net, "open", door="hall") == ("door_lockdown", {})
        assert command(net, "open", door="attic") == ("door_unknown", {})
        assert command(net, "open", door=7, checked=False) == ("command_invalid", {})
        assert command(net, "unlock_all", checked=False) == ("command_unknown", {})
        assert command(net, "lockdown", door="wc", active=False) == ("ok", {"doors": ["wc"]})
        assert command(net, "open", door="wc") == ("ok", {"doors": ["wc"]})
        wait_for(lambda: pulses(lock), what="wc opened")
        assert pin_changes(lock, HALL_RELAY) == []
    finally:
        lock.stop()


def test_status_shows_doors(net, lock):
    """The retained status shows each door: released, open, lockdown, room, inside, last result."""
    add_card(net.db, "04A1B2C3", lock)
    send_sim_tap(lock.socket, "04A1B2C3")
    wait_for(lambda: decisions(net) == ["granted"])
    lock.factory.pin(CONTACT).drive_high()
    assert command(net, "lockdown") == ("ok", {"doors": ["wc"]})
    lock.runtime.refresh_status()
    doors = wait_for(lambda: status(net).get("doors", {}).get("wc", {}).get("lockdown")
                     and status(net)["doors"], what="status after the lockdown")
    assert doors == {"wc": {"released": False, "open": True, "lockdown": True, "room": "wc",
                            "inside": 1, "result": "granted"}}


def test_relay_fault_when_the_feedback_contact_disagrees(net, tmp_path):
    """A relay whose auxiliary contact disagrees past the settle time is a relay_fault."""
    net.start_central()
    lock = build_lock(net, tmp_path, relay_feedback_pin=FEEDBACK, relay_feedback_ms=150)
    seen = steps(lock)
    lock.start()
    try:
        looked_after(seen, time.monotonic() + 0.15)      # relay off, contact open: fine
        send_sim_tap(lock.socket, "DEADBEEF")            # a later event than any alarm
        wait_for(lambda: decisions(net) == ["card_unknown"], what="the later decision")
        assert active_alarms(net) == set()
        lock.factory.pin(FEEDBACK).drive_low()           # contact closed: relay welded
        wait_for(lambda: "relay_fault" in active_alarms(net), what="welded relay alarm")
        assert "wc:relay_fault" in lock.runtime.health().alarms  # and in the retained status
        lock.factory.pin(FEEDBACK).drive_high()
        wait_for(lambda: "relay_fault" not in active_alarms(net), what="fault cleared")
        add_card(net.db, "04A1B2C3", lock)
        send_sim_tap(lock.socket, "04A1B2C3")            # relay on, contact never closes
        wait_for(lambda: alarm_changes(net, "relay_fault") == [1, 0, 1], what="dead relay")
        wait_for(lambda: alarm_changes(net, "relay_fault") == [1, 0, 1, 0],
                 what="cleared once the relay is off again")
        assert len(pulses(lock)) == 1
    finally:
        lock.stop()


def test_an_open_housing_is_a_tamper_alarm_from_start_until_closed(net, tmp_path):
    """A lock started with its housing open raises tamper at central; closing clears it,
    opening again raises it again."""
    net.start_central()
    lock = start_lock(net, tmp_path, tamper_pin=TAMPER, housing_open=True)
    try:
        wait_for(lambda: alarm_changes(net, "tamper") == [1], what="tamper at central")
        wait_for(lambda: "wc:tamper" in status(net).get("alarms", ()), what="tamper in status")
        lock.factory.pin(TAMPER).drive_low()
        wait_for(lambda: alarm_changes(net, "tamper") == [1, 0], what="tamper cleared")
        wait_for(lambda: "wc:tamper" not in status(net)["alarms"], what="gone from status")
        lock.factory.pin(TAMPER).drive_high()
        wait_for(lambda: alarm_changes(net, "tamper") == [1, 0, 1], what="raised again")
    finally:
        lock.stop()


class Tty:
    """A serial card reader on a pseudo-terminal that a test can unplug and plug back."""

    def __init__(self, link) -> None:
        self.link = str(link)
        self.reader = {"kind": "serial", "url": self.link, "kind_of_data": "uid"}
        self.plug()

    def plug(self) -> None:
        """Plug the reader in (again)."""
        self.fds = pty_pair(self.link)

    def unplug(self) -> None:
        """Pull the reader out."""
        close_quietly(*self.fds)
        if os.path.lexists(self.link):
            os.unlink(self.link)

    def tap(self, uid: str) -> None:
        """A card read by the reader."""
        os.write(self.fds[0], uid.encode() + b"\r")


def test_a_lost_reader_is_an_alarm_until_every_reader_of_the_door_is_back(net, tmp_path):
    """Unplugging a door's card reader raises reader_lost at central; it clears when that reader
    is back, not when the door's other reader is, and the door reads cards again."""
    net.start_central()
    entry, leave = Tty(tmp_path / "ttyIn"), Tty(tmp_path / "ttyOut")
    lock = start_lock(net, tmp_path, reader=entry.reader, exit_reader=leave.reader)

    def read_at_central(uid: str) -> bool:
        """Whether a tap of `uid` reached central's access log. A tap made before a reader
        is open is lost, so each step taps until one arrives."""
        return net.db.execute("SELECT count(*) FROM access_log WHERE card = ?",
                              [card_hash(lock.key, uid)]).fetchone()[0] > 0

    try:
        wait_for(lambda: entry.tap("DEADBEEF") or read_at_central("DEADBEEF"), interval=0.2,
                 what="the reader reads")
        assert set(decisions(net)) == {"card_unknown"}
        entry.unplug()
        wait_for(lambda: alarm_changes(net, "reader_lost") == [1], what="reader_lost")
        wait_for(lambda: "wc:reader_lost" in status(net).get("alarms", ()), what="in status")
        leave.unplug()
        leave.plug()
        wait_for(lambda: leave.tap("CAFEBABE") or read_at_central("CAFEBABE"), interval=0.2,
                 what="the exit reader reads again")
        assert alarm_changes(net, "reader_lost") == [1]     # the entry reader is still gone
        entry.plug()
        wait_for(lambda: alarm_changes(net, "reader_lost") == [1, 0], what="reader back")
        wait_for(lambda: "wc:reader_lost" not in status(net)["alarms"], what="gone from status")
        wait_for(lambda: entry.tap("0BADF00D") or read_at_central("0BADF00D"), interval=0.2,
                 what="it reads again")
    finally:
        lock.stop()
        entry.unplug()
        leave.unplug()


def roster_at_central(net) -> str:
    """What `libedge admin roster` prints."""
    done = CliRunner().invoke(admin, ["roster", "--db", net.store])
    assert done.exit_code == 0, done.output
    return done.output


def test_the_roster_follows_entries_and_exits_by_card(net, tmp_path):
    """`libedge admin roster` lists who entered a room by card until they leave through the exit
    reader; with anti-passback nobody enters twice or leaves without entering."""
    net.start_central()
    exit_reader = {"kind": "sim", "socket": str(tmp_path / "out.sock"), "name": "out"}
    lock = start_lock(net, tmp_path, room="reading", exit_reader=exit_reader,
                      policy={"anti_passback": "refuse"})
    try:
        add_card(net.db, "04A1B2C3", lock)
        hashed = card_hash(lock.key, "04A1B2C3")
        send_sim_tap(lock.socket, "04A1B2C3")
        send_sim_tap(lock.socket, "04A1B2C3")
        wait_for(lambda: len(decisions(net)) == 2, what="two decisions")
        assert decisions(net) == ["granted", "passback"]
        assert f"main/{'reading':<14} card {hashed[:12]}" in roster_at_central(net)
        for _ in range(2):
            send_sim_tap(exit_reader["socket"], "04A1B2C3")
        wait_for(lambda: len(decisions(net)) == 4, what="two exits decided")
        assert decisions(net)[2:] == ["granted", "passback"]
        assert roster_at_central(net) == "nobody recorded inside\n"
    finally:
        lock.stop()


EVENING = {"timezone": "UTC", "windows": [
    {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "17:00",
     "end": "21:00"}]}
CLOSING = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)


def test_at_closing_time_central_gets_the_sweep_of_who_is_still_inside(net, tmp_path):
    """When the door's evening window ends, central gets who entered by card and how many are
    inside (less anonymous exits by the button), once; the roster starts afresh."""
    net.start_central()
    now = [CLOSING - timedelta(minutes=1)]
    lock = start_lock(net, tmp_path, clock=lambda: now[0], schedule=EVENING)
    try:
        add_card(net.db, "04A1B2C3", lock)
        add_card(net.db, "04D4E5F6", lock)
        cards = [card_hash(lock.key, uid) for uid in ("04A1B2C3", "04D4E5F6")]
        for uid in ("04A1B2C3", "04D4E5F6"):
            send_sim_tap(lock.socket, uid)
        wait_for(lambda: len(decisions(net)) == 2, what="both entries at central")
        lock.factory.pin(EXIT).drive_low()                   # someone leaves by the button
        wait_for(lambda: len(decisions(net)) == 3, what="the exit at central")
        assert decisions(net) == ["granted", "granted", "exit_button"]
        now[0] = CLOSING
        sweeps = wait_for(lambda: net.db.execute(
            "SELECT room, count, inside FROM sweeps").fetchall(), what="the sweep at central")
        assert [(r, c, msgspec.json.decode(i)) for r, c, i in sweeps] == [("wc", 1, cards)]
        assert roster_at_central(net) == "nobody recorded inside\n"
        send_sim_tap(lock.socket, "04A1B2C3")                # a later event, after closing
        wait_for(lambda: len(decisions(net)) == 4, what="a decision after hours")
        assert decisions(net)[3] == "closed_now"
        assert net.db.execute("SELECT count(*) FROM sweeps").fetchone()[0] == 1
    finally:
        lock.stop()


def test_sweep_command_reports_and_empties_the_room(net, lock):
    """`sweep` answers with who is inside the room, reports it to central and starts afresh."""
    add_card(net.db, "04A1B2C3", lock)
    send_sim_tap(lock.socket, "04A1B2C3")
    wait_for(lambda: decisions(net) == ["granted"], what="granted")
    hashed = card_hash(lock.key, "04A1B2C3")
    assert command(net, "sweep", room="wc") == (
        "ok", {"room": "wc", "count": 1, "inside": [hashed]})
    wait_for(lambda: net.db.execute("SELECT count(*) FROM sweeps").fetchone()[0] == 1,
             what="the sweep at central")
    assert roster_at_central(net) == "nobody recorded inside\n"
    assert command(net, "sweep", room="wc") == ("ok", {"room": "wc", "count": 0, "inside": []})


def test_resync_copies_the_door_list_afresh(net, lock):
    """`resync` pulls the whole list again: a card lost from the door's copy passes again."""
    add_card(net.db, "04A1B2C3", lock)
    hashed = card_hash(lock.key, "04A1B2C3")
    with sqlite3.connect(os.path.join(lock.cfg.device.data_dir, "replica.db")) as copy:
        copy.execute("DELETE FROM replica_rows_allowlist WHERE key = ?",
                     [short_key("allowlist", hashed)])
    assert lock.present("wc", read("04A1B2C3")) == "card_unknown"
    assert command(net, "resync") == ("ok", {})
    wait_for(lambda: lock.runtime.lookup("allowlist", hashed), what="the card copied again")
    send_sim_tap(lock.socket, "04A1B2C3")
    wait_for(lambda: decisions(net) == ["card_unknown", "granted"], what="granted again")


def test_a_door_whose_list_got_too_old_offline_refuses_with_list_stale(net, tmp_path):
    """Offline longer than max_list_age, the door stops trusting its list: list_stale."""
    from tests.proxy import Proxy

    net.start_central()
    proxy = Proxy(net.broker.port)
    lock = start_lock(net, tmp_path, port=proxy.port,
                      policy={"max_list_age": 5.0, "staff_always": False})
    try:
        add_card(net.db, "04A1B2C3", lock)
        assert lock.present("wc", read("04A1B2C3")) == "granted"   # just synced
        proxy.cut("drop")
        wait_for(lambda: lock.present("wc", read("04A1B2C3")) == "list_stale",
                 interval=0.2, what="the door stops trusting its old list")
    finally:
        lock.stop()
        proxy.close()


def test_an_erased_patron_vanishes_from_the_door(net, lock):
    """Erasing a patron at central removes the card from the door's copy and the hash index."""
    from central.circulation import lifecycle
    from central.circulation.store import Store

    pid = add_card(net.db, "04A1B2C3", lock)
    hashed = card_hash(lock.key, "04A1B2C3")
    assert lock.present("wc", read("04A1B2C3")) == "granted"
    lifecycle.erase(Store(net.db), pid)
    wait_for(lambda: lock.runtime.lookup("allowlist", hashed) is None,
             what="the card gone from the door's copy")
    assert lock.present("wc", read("04A1B2C3")) == "card_unknown"
    assert not net.db.execute("SELECT count(*) FROM card_hashes").fetchone()[0]
