"""One running lock with four doors, shared by this module's tests so each takes a moment:
what every door decides, drives on its pins and reports to central.

The lock runs its real deciding thread on MockFactory pins against a private broker and
central. Each test uses its own cards and leaves the doors as it found them; a step of the
lock that fails (an exception it logs) fails the test at once.
"""

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import msgspec
import pytest

from edge_common.cardid import card_hash
from edge_common.gpio import pin_factory
from edge_common.readers import send_sim_tap
from tests.harness import Network, wait_for
from tests.locks import (
    CONTACT,
    EXIT,
    FEEDBACK,
    FIRE,
    GREEN,
    RED,
    RELAY,
    TAMPER,
    UNLOCK,
    add_card,
    alarm_changes,
    build_lock,
    command,
    looked_after,
    pin_changes,
    pulses,
    read,
    relay,
    steps,
)

HALL, DESK, SPARE, SPARE_CONTACT = 26, 13, 12, 19
LATE = {"timezone": "UTC", "windows": [
    {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "22:00",
     "end": "24:00"}]}
OPEN = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)    # 24 November 00:30 in Ljubljana


def doors(root) -> list[dict]:
    """The lock's other doors: a late-evening entrance to the lobby with an exit reader and
    anti-passback,
    a rate-limited hatch that trusts a list an hour old and stays shut in a fire, and a spare
    door with a contact and relay feedback that no other test uses."""
    def sim(name: str) -> dict:
        """A simulated reader on the socket `name`."""
        return {"kind": "sim", "socket": str(root / f"{name}.sock"), "name": name}

    return [
        {"id": "hall", "kind": "entrance", "relay_pin": HALL, "room": "lobby",
         "unlock_seconds": UNLOCK, "reader": sim("hall"), "exit_reader": sim("hall-out"),
         "schedule": LATE, "policy": {"anti_passback": "refuse"}},
        {"id": "desk", "kind": "hatch", "relay_pin": DESK, "unlock_seconds": UNLOCK,
         "emergency_release": False, "reader": sim("desk"),
         "policy": {"rate_limit_seconds": 600, "max_list_age": 3600, "staff_always": False}},
        {"id": "spare", "kind": "reading_room", "relay_pin": SPARE, "contact_pin": SPARE_CONTACT,
         "relay_feedback_pin": FEEDBACK, "relay_feedback_ms": 50, "emergency_release": False,
         "reader": sim("spare")},
    ]


# the deciding thread, the device runtime and its parts
WATCHED = ("lockd.daemon", "edge_common.coordinator", "edge_common.runtime",
           "edge_common.command_router", "edge_common.sender", "edge_common.requester")


class Failures(logging.Handler):
    """What the lock logged as failed (a step of its deciding thread or runtime that could not
    do its work, e.g. publish its status)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the failure's message."""
        self.seen.append(record.getMessage())


def four_doors(net, root, now: list[datetime]):
    """The unstarted lock (wc, hall, desk, spare) on the clock `now[0]`; the wc's housing is
    open, every door shut."""
    lock = build_lock(net, root, clock=lambda: now[0], more_doors=doors(root),
                      tamper_pin=TAMPER, housing_open=True)
    lock.factory.pin(SPARE_CONTACT).drive_low()
    return lock


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A broker, central and the running four-door lock on a settable clock."""
    root = tmp_path_factory.mktemp("lockd")
    net = Network(root)
    net.start_central()
    now = [OPEN]
    lock = four_doors(net, root, now)
    failures = Failures()
    for name in WATCHED:
        logging.getLogger(name).addHandler(failures)
    seen = steps(lock)
    lock.start()
    wait_for(lambda: lock.runtime.synced_at("allowlist"), what="allow-list synced")
    yield SimpleNamespace(net=net, lock=lock, now=now, failures=failures, steps=seen, root=root)
    for name in WATCHED:
        logging.getLogger(name).removeHandler(failures)
    lock.stop()
    net.close()


def until(site, predicate, what: str):
    """Wait for `predicate()`, failing at once when the lock logs a failed step."""
    value = wait_for(lambda: site.failures.seen or predicate(), what=what)
    assert not site.failures.seen, site.failures.seen
    return value


@pytest.fixture
def failures():
    """What lockd logs as failed while the test runs."""
    handler = Failures()
    for name in WATCHED:
        logging.getLogger(name).addHandler(handler)
    yield handler
    for name in WATCHED:
        logging.getLogger(name).removeHandler(handler)


def results(site, door: str) -> list[str]:
    """What central logged for `door`, oldest first."""
    return [r[0] for r in site.net.db.execute(
        "SELECT result FROM access_log WHERE door = ? ORDER BY id", [door])]


def tap(site, door: str, uid: str, reader: str = "") -> str:
    """Present a card at a door's reader (`reader`: the socket's name, default the door's);
    return what central logged for it."""
    before = len(results(site, door))
    send_sim_tap(str(site.root / f"{reader or door}.sock"), uid)
    until(site, lambda: len(results(site, door)) > before, f"a decision at {door}")
    return results(site, door)[before]


def card(site, uid: str, **patron) -> str:
    """A new patron's card, replicated to the lock; return its hash."""
    add_card(site.net.db, uid, site.lock, **patron)
    return card_hash(site.lock.key, uid)


def door_status(site) -> dict:
    """The doors as the lock's next retained status at central shows them."""
    db = site.net.db
    before = db.execute("SELECT updated_at FROM device_status WHERE dev = 'lock-1'").fetchone()
    site.lock.runtime.refresh_status()
    until(site, lambda: db.execute("SELECT updated_at FROM device_status WHERE dev = 'lock-1'"
                                   ).fetchone() != before, "a fresh status")
    row = db.execute("SELECT body FROM device_status WHERE dev = 'lock-1'").fetchone()
    return msgspec.json.decode(row[0])["body"]


def test_a_started_lock_is_quiet_and_shows_every_door(net, tmp_path, failures):
    """Started with its doors shut and no fire, a lock energises no relay and raises only the
    open housing's tamper; its status shows every door in its room, locked, nobody inside."""
    net.start_central()
    lock = four_doors(net, tmp_path, [OPEN])
    lock.start()
    try:
        fresh = SimpleNamespace(net=net, lock=lock, failures=failures, root=tmp_path)
        assert tap(fresh, "wc", "04000000") == "card_unknown"  # everything earlier is at central
        assert net.db.execute("SELECT door, alarm, active FROM door_alarms").fetchall() == [
            ("wc", "tamper", 1)]
        assert door_status(fresh)["alarms"] == ["wc:tamper"]
        assert [pin_changes(lock, p) for p in (RELAY, HALL, DESK, SPARE)] == [[]] * 4
        shown = {name: (d["room"], d["released"], d["open"], d["lockdown"], d["inside"],
                        d["result"]) for name, d in door_status(fresh)["doors"].items()}
        assert shown == {"wc": ("wc", False, False, False, 0, "card_unknown"),
                         "hall": ("lobby", False, False, False, 0, "-"),
                         "desk": ("desk", False, False, False, 0, "-"),
                         "spare": ("spare", False, False, False, 0, "-")}
    finally:
        lock.stop()


def test_a_granted_card_pulses_its_own_door_and_shows_green(site):
    """A member is let in at the wc: its relay pulses, the green LED lights, no other door
    moves; an unknown card is refused with red."""
    card(site, "04000001")
    pulsed, green, red = (len(x) for x in (pulses(site.lock), pin_changes(site.lock, GREEN),
                                            pin_changes(site.lock, RED)))
    assert tap(site, "wc", "04000001") == "granted"
    until(site, lambda: len(pulses(site.lock)) > pulsed, "the wc's pulse")
    assert pulses(site.lock)[pulsed] >= UNLOCK / 2
    assert pin_changes(site.lock, GREEN)[green:green + 1] == [True]
    assert tap(site, "wc", "04000002") == "card_unknown"
    assert pin_changes(site.lock, RED)[red:red + 1] == [True]
    assert pin_changes(site.lock, SPARE) == []


def test_a_card_read_is_answered_at_the_reader(site):
    """The reader gets the door's answer (what `libedge tap` prints)."""
    assert send_sim_tap(str(site.root / "wc.sock"), "04000003", answer_within=30) == (
        "card_unknown")


def test_membership_ends_at_midnight_in_the_branch_time_zone(site):
    """A membership valid until the 23rd has ended at the wc once it is the 24th in
    Ljubljana, though it is still the 23rd in UTC."""
    card(site, "04000004", valid_until="2026-11-23")
    assert tap(site, "wc", "04000004") == "membership_expired"


def test_present_has_released_the_door_when_it_answers_granted(site):
    """`present` (what a reader's card becomes) has energised the relay by the time it
    answers granted, not at the lock's next step."""
    card(site, "04000011")
    until(site, lambda: not relay(site.lock, DESK), "the desk locked (after earlier tests)")
    before = len(pin_changes(site.lock, DESK))
    assert site.lock.present("desk", read("04000011")) == "granted"
    assert pin_changes(site.lock, DESK)[before:before + 1] == [True]


def test_the_hatch_lets_a_card_through_once_per_rate_limit(site):
    """The desk hatch refuses a card's second pass within its rate limit, not another card."""
    card(site, "04000005")
    card(site, "04000006")
    assert [tap(site, "desk", uid) for uid in ("04000005", "04000005", "04000006")] == [
        "granted", "rate_limited", "granted"]


def test_the_hall_roster_and_anti_passback_follow_entries_and_exits(site):
    """At the hall a card enters once, leaves once through the exit reader, and the roster at
    central and the hall's count follow it."""
    hashed = card(site, "04000007")
    inside = door_status(site)["doors"]["hall"]["inside"]
    roster = "SELECT 1 FROM roster WHERE room = 'lobby' AND card = ?"
    assert [tap(site, "hall", "04000007") for _ in range(2)] == ["granted", "passback"]
    assert site.net.db.execute(roster, [hashed]).fetchall() == [(1,)]
    assert door_status(site)["doors"]["hall"]["inside"] == inside + 1
    assert [tap(site, "hall", "04000007", "hall-out") for _ in range(2)] == [
        "granted", "passback"]
    assert site.net.db.execute(roster, [hashed]).fetchall() == []
    assert door_status(site)["doors"]["hall"]["inside"] == inside


def test_the_exit_button_lets_someone_out_anonymously(site):
    """The wc's exit button releases the door, is logged at central and counts one less
    inside."""
    card(site, "04000008")
    assert command(site.net, "sweep", room="wc")[0] == "ok"     # nobody inside, no exits
    assert tap(site, "wc", "04000008") == "granted"
    assert door_status(site)["doors"]["wc"]["inside"] == 1
    pulsed = len(pulses(site.lock))
    site.lock.factory.pin(EXIT).drive_low()
    site.lock.factory.pin(EXIT).drive_high()
    assert until(site, lambda: results(site, "wc")[-1:] == ["exit_button"], "the exit logged")
    until(site, lambda: len(pulses(site.lock)) > pulsed, "the exit's pulse")
    assert door_status(site)["doors"]["wc"]["inside"] == 0


def test_a_forced_door_stays_an_alarm_until_cleared(site):
    """A shut door raises nothing; forced open it raises door_forced, which stays after it
    shuts until staff clear it by command."""
    assert tap(site, "wc", "04000009") == "card_unknown"    # everything earlier is at central
    assert alarm_changes(site.net, "door_forced") == []
    until(site, lambda: not relay(site.lock), "the wc locked (after earlier tests)")
    site.lock.factory.pin(CONTACT).drive_high()
    site.lock.factory.pin(CONTACT).drive_low()
    assert tap(site, "wc", "04000009") == "card_unknown"
    assert alarm_changes(site.net, "door_forced") == [1]
    assert "wc:door_forced" in door_status(site)["alarms"]
    assert command(site.net, "clear_alarm", door="wc", alarm="door_forced") == (
        "ok", {"doors": ["wc"]})
    until(site, lambda: alarm_changes(site.net, "door_forced") == [1, 0], "cleared")
    assert "wc:door_forced" not in door_status(site)["alarms"]


def test_a_door_held_open_past_its_limit_is_an_alarm_until_shut(site):
    """Opened after a grant and left open past its limit, the wc is held open until shut."""
    card(site, "0400000A")
    assert tap(site, "wc", "0400000A") == "granted"
    site.lock.factory.pin(CONTACT).drive_high()
    until(site, lambda: alarm_changes(site.net, "door_held_open")[-1:] == [1], "held open")
    site.lock.factory.pin(CONTACT).drive_low()
    until(site, lambda: alarm_changes(site.net, "door_held_open")[-1:] == [0], "shut")
    assert alarm_changes(site.net, "door_forced")[-1:] != [1]


def test_an_open_housing_is_tamper_from_the_start_until_closed(site):
    """The wc's housing was open when the lock started: tamper at central until it closes."""
    assert tap(site, "wc", "0400000B") == "card_unknown"     # everything earlier is at central
    assert alarm_changes(site.net, "tamper") == [1]
    assert "wc:tamper" in door_status(site)["alarms"]
    site.lock.factory.pin(TAMPER).drive_low()
    until(site, lambda: alarm_changes(site.net, "tamper") == [1, 0], "closed")
    assert "wc:tamper" not in door_status(site)["alarms"]
    site.lock.factory.pin(TAMPER).drive_high()
    until(site, lambda: alarm_changes(site.net, "tamper") == [1, 0, 1], "opened again")
    site.lock.factory.pin(TAMPER).drive_low()
    until(site, lambda: alarm_changes(site.net, "tamper") == [1, 0, 1, 0], "closed again")


def test_a_relay_whose_feedback_disagrees_is_a_fault(site):
    """The spare door's relay contact closed while the relay is off is a relay_fault."""
    site.lock.factory.pin(FEEDBACK).drive_low()
    until(site, lambda: alarm_changes(site.net, "relay_fault") == [1], "relay fault")
    assert "spare:relay_fault" in door_status(site)["alarms"]
    site.lock.factory.pin(FEEDBACK).drive_high()
    until(site, lambda: alarm_changes(site.net, "relay_fault") == [1, 0], "fault cleared")


def test_fire_releases_the_doors_set_to_release_for_as_long_as_it_lasts(site):
    """The fire input releases the wc and the hall, not the desk or the spare door, for as
    long as it lasts, and is an alarm of each released door."""
    until(site, lambda: not relay(site.lock, DESK), "the desk locked (after earlier tests)")
    site.lock.factory.pin(FIRE).drive_low()
    until(site, lambda: relay(site.lock) and relay(site.lock, HALL), "released")
    looked_after(site.steps, time.monotonic() + UNLOCK)
    assert [relay(site.lock, p) for p in (RELAY, HALL, DESK, SPARE)] == [
        True, True, False, False]
    site.lock.factory.pin(FIRE).drive_high()
    until(site, lambda: not relay(site.lock) and not relay(site.lock, HALL), "locked again")
    changes = "SELECT door, active FROM door_alarms WHERE alarm = 'emergency_release'"
    until(site, lambda: len(site.net.db.execute(changes).fetchall()) == 4, "raised, cleared")
    assert sorted(site.net.db.execute(changes).fetchall()) == [
        ("hall", 0), ("hall", 1), ("wc", 0), ("wc", 1)]


def test_lockdown_refuses_every_card_and_open_until_lifted(site):
    """Lockdown of every door refuses a staff card and a remote open, with their codes; the
    wc's exit button still lets people out; lifted, the door opens by command again."""
    card(site, "0400000C", staff=1)
    assert command(site.net, "lockdown") == ("ok", {"doors": ["wc", "hall", "desk", "spare"]})
    try:
        assert tap(site, "hall", "0400000C") == "lockdown"
        assert command(site.net, "open", door="hall") == ("door_lockdown", {})
        assert door_status(site)["doors"]["hall"]["lockdown"] is True
        pulsed = len(pulses(site.lock))
        site.lock.factory.pin(EXIT).drive_low()
        site.lock.factory.pin(EXIT).drive_high()
        until(site, lambda: len(pulses(site.lock)) > pulsed, "the exit's pulse")
    finally:
        assert command(site.net, "lockdown", active=False) == (
            "ok", {"doors": ["wc", "hall", "desk", "spare"]})
    assert tap(site, "hall", "0400000C") == "granted"


def test_open_releases_one_door_for_the_seconds_asked(site):
    """`open` with seconds releases that door, longer than its unlock time, and no other."""
    before = len(pulses(site.lock, DESK))
    assert command(site.net, "open", door="desk", seconds=1) == ("ok", {"doors": ["desk"]})
    until(site, lambda: len(pulses(site.lock, DESK)) > before, "the desk opened")
    assert pulses(site.lock, DESK)[-1] >= 0.75 > UNLOCK


def test_release_holds_a_door_until_switched_off(site):
    """`release` keeps the desk released past any unlock time; switched off it locks."""
    assert command(site.net, "release", door="desk") == ("ok", {"doors": ["desk"]})
    until(site, lambda: relay(site.lock, DESK), "released")
    looked_after(site.steps, time.monotonic() + UNLOCK)
    assert relay(site.lock, DESK) and door_status(site)["doors"]["desk"]["released"] is True
    assert command(site.net, "release", door="desk", active=False) == ("ok", {"doors": ["desk"]})
    until(site, lambda: not relay(site.lock, DESK), "locked again")


def test_commands_for_no_such_door_or_unchecked_are_refused_with_codes(site):
    """An unknown door, arguments or command name central did not check are refused."""
    assert command(site.net, "open", door="attic") == ("door_unknown", {})
    assert command(site.net, "open", door=7, checked=False) == ("command_invalid", {})
    assert command(site.net, "unlock_all", checked=False) == ("command_unknown", {})
    assert site.failures.seen == []


def test_a_command_to_a_stuck_lock_is_answered_as_failed_and_never_run_late(site):
    """While the lock's deciding thread is stuck, a command is answered command_failed (after
    a few seconds) instead of stopping the device's link to central with it; once the thread
    moves again, the failed command is not carried out after all."""
    until(site, lambda: not relay(site.lock, DESK), "the desk locked (after earlier tests)")
    unstuck = threading.Event()
    site.lock.coordinator.soon(unstuck.wait)      # a step that does not end
    pulsed = pin_changes(site.lock, DESK)
    try:
        assert command(site.net, "open", door="desk") == ("command_failed", {})
    finally:
        unstuck.set()
    assert site.failures.seen == ["lock-1: command open failed"]
    site.failures.seen.clear()
    assert tap(site, "desk", "04000010") == "card_unknown"   # a later event, after the open
    assert pin_changes(site.lock, DESK) == pulsed


def test_sweep_command_answers_who_is_inside_and_starts_afresh(site):
    """`sweep` of the wc answers the cards inside and the count, tells central, and empties
    the room."""
    hashed = card(site, "0400000D")
    assert command(site.net, "sweep", room="wc")[0] == "ok"     # whatever earlier tests left
    assert tap(site, "wc", "0400000D") == "granted"
    assert command(site.net, "sweep", room="wc") == ("ok", {"room": "wc", "count": 1,
                                                           "inside": [hashed]})
    assert door_status(site)["doors"]["wc"]["inside"] == 0
    assert site.net.db.execute("SELECT count(*) FROM roster WHERE room = 'wc'").fetchone() == (0,)
    assert site.net.db.execute("SELECT count(*) FROM roster WHERE room = 'wc'").fetchone() == (0,)
    assert command(site.net, "sweep", room="wc") == ("ok", {"room": "wc", "count": 0,
                                                           "inside": []})


def test_at_closing_time_the_hall_is_swept_once_and_exits_ignore_the_window(site):
    """When the hall's window ends, central gets its sweep once; the hall then refuses
    entries with closed_now, while an exit is judged without the window (here refused only as
    the sweep emptied the room)."""
    hashed = card(site, "0400000E")
    assert tap(site, "hall", "0400000E") == "granted"
    sweeps = "SELECT count, inside FROM sweeps WHERE room = 'lobby'"
    before = site.net.db.execute(sweeps).fetchall()
    site.now[0] = OPEN.replace(hour=0, minute=0) + timedelta(days=1)
    try:
        until(site, lambda: len(site.net.db.execute(sweeps).fetchall()) > len(before), "sweep")
        assert tap(site, "hall", "0400000E") == "closed_now"
        assert tap(site, "hall", "0400000E", "hall-out") == "passback"   # swept: not inside
        (count, inside), = site.net.db.execute(sweeps).fetchall()[len(before):]
        assert hashed in msgspec.json.decode(inside) and count == len(msgspec.json.decode(inside))
    finally:
        site.now[0] = OPEN
    assert tap(site, "hall", "0400000E") == "granted"


def test_the_lock_wakes_for_a_release_end_and_at_least_once_a_second(tmp_path):
    """Idle, the lock looks again within a second (its schedules change by the minute); after
    a grant, no later than the grant ends."""
    net = Network(tmp_path)
    lock = build_lock(net, tmp_path)
    try:
        assert lock._wait() == 1.0
        lock.doors["wc"].state.grant(time.monotonic())
        assert 0.0 <= lock._wait() <= UNLOCK
        lock.doors["wc"].state.grant(time.monotonic(), 30.0)
        assert lock._wait() == 1.0
    finally:
        lock.stop()
        net.close()


def test_stop_returns_even_when_the_deciding_thread_is_stuck(net, tmp_path):
    """A lock whose deciding thread is stuck still stops (it waits a few seconds for it; the
    stuck step stays stuck, as it would until the process ends)."""
    lock = build_lock(net, tmp_path)
    lock.start()
    lock.coordinator.soon(threading.Event().wait)
    stopped = threading.Event()
    threading.Thread(target=lambda: (lock.stop(), stopped.set()), daemon=True).start()
    wait_for(stopped.is_set, what="stop returned")


def test_offline_past_its_outbox_cap_the_lock_drops_old_exits_and_decisions_first(
        net, tmp_path):
    """Offline with a full outbox, the lock drops the oldest exit and door decision events
    (each counted) to keep an alarm and the newest ones."""
    from provisioning.broker import free_port

    lock = build_lock(net, tmp_path, port=free_port(), outbox_limits={"max_rows": 10})
    lock.start()
    try:
        lock.factory.pin(CONTACT).drive_high()                # forced: an alarm
        for _ in range(10):                                   # ten exits by the button
            lock.factory.pin(EXIT).drive_low()
            lock.factory.pin(EXIT).drive_high()
        wait_for(lambda: lock.runtime.health().outbox_depth == 10, what="eleven events")
        wait_for(lambda: lock.runtime.health().dropped, what="the oldest exit dropped")
        for i in range(5):
            assert lock.present("wc", read(f"04AB{i:04X}")) == "card_unknown"
        health = lock.runtime.health()
        assert (health.outbox_depth, health.dropped, health.over_capacity) == (10, 6, False)
    finally:
        lock.stop()


def test_the_config_names_the_pin_factory():
    """`mock` is gpiozero's MockFactory; an empty name leaves the choice to gpiozero."""
    from gpiozero.pins.mock import MockFactory

    assert isinstance(pin_factory("mock"), MockFactory)
    assert pin_factory("") is None


def test_stop_ends_the_lock_thread(net, tmp_path):
    """After stop no thread of the lock is left."""
    before = set(threading.enumerate())
    lock = build_lock(net, tmp_path)
    lock.start()
    lock.stop()
    left = {t.name for t in set(threading.enumerate()) - before}
    assert left.isdisjoint({"lockd", "coord-lock-1", "mqtt-lock-1"}), left
