"""lockd through its real seams: simulated reader socket, gpiozero MockFactory pins, real broker."""

import time

import pytest
from click.testing import CliRunner

from central import commands
from central.circulation import allowlist
from edge_common.cardid import card_hash
from edge_common.readers import send_sim_tap
from libedge_cli.main import cli
from tests.harness import wait_for
from tests.locks import (
    CONTACT,
    EXIT,
    FEEDBACK,
    FIRE,
    UNLOCK,
    active_alarms,
    add_card,
    alarm_changes,
    build_lock,
    command,
    decisions,
    looked_after,
    pulses,
    read,
    relay,
    relay_changes,
    start_lock,
    status,
    steps,
)


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
    assert relay_changes(lock) == [True, False]


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
    with net.db.atomic():
        net.db.execute("UPDATE patrons SET blocked = 1 WHERE id = ?", [pid])
        allowlist.refresh_patron(net.db, pid)
    wait_for(lambda: lock.present("wc", read("04D4E5F6")) == "patron_blocked",
             interval=0.02, what="the door refuses the blocked card")


def test_forced_door_and_held_open_raise_alarms(net, lock):
    """A door opened without a grant is forced; left open past its limit it is held open."""
    lock.factory.pin(CONTACT).drive_high()   # opened without a grant
    wait_for(lambda: active_alarms(net) == {"door_forced"}, what="forced alarm at central")
    wait_for(lambda: "door_held_open" in active_alarms(net), what="held-open alarm")
    lock.factory.pin(CONTACT).drive_low()
    wait_for(lambda: alarm_changes(net, "door_held_open") == [1, 0], what="held-open cleared")


def test_exit_button_always_releases_even_in_lockdown(net, lock):
    """In lockdown every card is refused, staff too, but the exit button still opens."""
    assert command(net, "lockdown", active=True) == ("ok", {"doors": ["wc"]})
    add_card(net.db, "04FF0001", lock, staff=1)
    send_sim_tap(lock.socket, "04FF0001")
    wait_for(lambda: decisions(net) == ["lockdown"], what="the staff card refused")
    assert relay_changes(lock) == []
    lock.factory.pin(EXIT).drive_low()
    wait_for(lambda: pulses(lock), what="exit releases the door")
    lock.factory.pin(EXIT).drive_high()


def test_fire_alarm_releases_and_is_reported(net, lock):
    """The fire input keeps the door released as long as it lasts, and is an alarm at central."""
    seen = steps(lock)
    lock.factory.pin(FIRE).drive_low()
    wait_for(lambda: relay(lock), what="released on fire alarm")
    looked_after(seen, time.monotonic() + UNLOCK)     # longer than any card's release
    assert relay_changes(lock) == [True]
    wait_for(lambda: alarm_changes(net, "emergency_release") == [1], what="alarm at central")
    lock.factory.pin(FIRE).drive_high()
    wait_for(lambda: relay_changes(lock) == [True, False], what="locked again after the alarm")
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
