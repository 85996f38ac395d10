"""The pickup locker through its real seams: gpiozero MockFactory pins, a real broker and
central; its config through the daemon's own command line."""

import signal
import subprocess
import sys

import msgspec
import pytest
import tomli_w
from click.testing import CliRunner
from gpiozero.pins.mock import MockFactory

from central import fleet
from lockers.config import LockerConfig
from lockers.daemon import Locker, main
from tests.harness import PATIENCE, device_parts, wait_for
from tests.locks import active_alarms, alarm_changes, command, pin_changes, pulses, status

DEV = "locker-1"
PINS = {"a1": (17, 27, 22), "a2": (5, 6, 13)}   # relay, door contact, occupancy sensor
RELAY, CONTACT, OCCUPANCY = PINS["a1"]
PULSE = 0.3   # the test compartments' unlock time, seconds


def locker_config(net, tmp_path, **compartment) -> dict:
    """The config of a locker enrolled at central with compartments `a1` (with `compartment`'s
    settings) and `a2`, as a TOML file holds it."""
    key = fleet.enrol(net.db, DEV, net.site, "locker")
    parts = device_parts(net.broker, tmp_path, DEV, net.site, "locker", net.card_key,
                         command_key=key, ack_timeout=2.0)
    raw = {name: {k: v for k, v in msgspec.to_builtins(part).items() if v is not None}
           for name, part in zip(("device", "mqtt", "outbox"), parts, strict=True)}
    return raw | {"compartments": [
        {"id": cid, "relay_pin": relay, "contact_pin": contact, "occupancy_pin": sensor,
         "unlock_seconds": PULSE, "held_open_seconds": 1.0,
         **(compartment if cid == "a1" else {})}
        for cid, (relay, contact, sensor) in PINS.items()]}


def build_locker(net, tmp_path, **compartment) -> Locker:
    """An unstarted locker (see `locker_config`) on MockFactory pins; every door shut, every
    compartment empty."""
    factory = MockFactory()
    locker = Locker(msgspec.convert(locker_config(net, tmp_path, **compartment), LockerConfig),
                    factory)
    for _, contact, _ in PINS.values():
        factory.pin(contact).drive_low()   # shut
    locker.factory = factory
    return locker


@pytest.fixture
def locker(net, tmp_path):
    """A started locker with central running."""
    net.start_central()
    started = build_locker(net, tmp_path)
    started.start()
    wait_for(lambda: started.runtime.central_up, what="the locker sees central")
    yield started
    started.stop()


def compartments(net) -> dict[str, tuple[int, int]]:
    """Each compartment's (open, occupied) as central last heard of its door."""
    return {c: (o, occ) for c, o, occ in net.db.execute(
        "SELECT compartment, open, occupied FROM compartments WHERE dev = ?", [DEV])}


def test_open_pulses_one_relay_and_the_door_reaches_central(net, locker):
    """`open` releases one compartment's lock for its pulse, or until its door swings open;
    the door opening, and its shutting on what was put in, reach central's store through the
    outbox."""
    assert command(net, "open", dev=DEV, door="a1") == ("ok", {"compartment": "a1"})
    wait_for(lambda: pulses(locker), what="the relay pulsed and was released")
    assert pulses(locker)[0] >= PULSE / 2
    assert command(net, "open", dev=DEV, door="a1", seconds=60) == ("ok", {"compartment": "a1"})
    locker.factory.pin(CONTACT).drive_high()      # the door swings open
    wait_for(lambda: compartments(net) == {"a1": (1, 0)}, what="the open door at central")
    assert pin_changes(locker) == [True, False, True, False]   # released once it opened
    locker.factory.pin(OCCUPANCY).drive_low()     # an item goes in
    locker.factory.pin(CONTACT).drive_low()       # and the door is shut
    wait_for(lambda: compartments(net) == {"a1": (0, 1)}, what="shut on an item, at central")
    assert pin_changes(locker, PINS["a2"][0]) == []
    wait_for(lambda: status(net, DEV).get("compartments", {}).get("a1") == {
        "released": False, "open": False, "occupied": True}, what="the status shows a1")
    assert active_alarms(net) == set()


def test_a_door_left_open_is_an_alarm_until_shut(net, locker):
    """Open past `held_open_seconds`: `door_held_open` at central, cleared when shut."""
    command(net, "open", dev=DEV, door="a1", seconds=60)
    locker.factory.pin(CONTACT).drive_high()
    wait_for(lambda: active_alarms(net) == {"door_held_open"}, what="held open at central")
    locker.factory.pin(CONTACT).drive_low()
    wait_for(lambda: alarm_changes(net, "door_held_open") == [1, 0], what="cleared at central")


def test_a_door_opened_while_locked_is_forced_until_staff_clear_it(net, locker):
    """A door that opens without a release is `door_forced`, latched until `clear_alarm`."""
    locker.factory.pin(CONTACT).drive_high()
    locker.factory.pin(CONTACT).drive_low()
    wait_for(lambda: alarm_changes(net, "door_forced") == [1], what="forced at central")
    assert command(net, "clear_alarm", dev=DEV, door="a1", alarm="door_forced") == (
        "ok", {"compartment": "a1"})
    wait_for(lambda: alarm_changes(net, "door_forced") == [1, 0], what="cleared at central")
    assert pin_changes(locker) == []


def test_an_open_names_one_known_compartment_or_is_refused_with_a_code(net, locker):
    """A locker never opens every compartment at once, nor one it does not have."""
    assert command(net, "open", dev=DEV) == ("compartment_required", {})
    assert command(net, "open", dev=DEV, door="z9") == ("compartment_unknown", {})
    assert command(net, "lockdown", dev=DEV) == ("command_unknown", {})
    assert all(pin_changes(locker, relay) == [] for relay, _, _ in PINS.values())


def test_stop_locks_a_compartment_in_the_middle_of_its_release(net, tmp_path):
    """A locker stopped while a compartment is released leaves it locked, not open."""
    net.start_central()
    locker = build_locker(net, tmp_path)
    locker.start()
    try:
        assert command(net, "open", dev=DEV, door="a1", seconds=60) == (
            "ok", {"compartment": "a1"})
        assert locker.factory.pin(RELAY).state == 1
    finally:
        locker.stop()
    assert pin_changes(locker)[-1] is False


def test_the_daemon_runs_from_its_config_file_and_stops_on_sigterm(net, tmp_path):
    """`python -m lockers.daemon` on simulated pins (`pin_factory = "mock"`, every door shut)
    obeys `open`; on SIGTERM it says it is offline and exits 0."""
    net.start_central()
    path = tmp_path / "locker.toml"
    path.write_text(tomli_w.dumps(locker_config(net, tmp_path) | {"gpio": {"pin_factory":
                                                                             "mock"}}))
    with open(tmp_path / "locker.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "lockers.daemon", "--config", str(path)],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: status(net, DEV).get("online"), what="online in the status")
        assert command(net, "open", dev=DEV, door="a2") == ("ok", {"compartment": "a2"})
        assert active_alarms(net) == set()   # the simulated doors start shut
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(PATIENCE) == 0
        wait_for(lambda: status(net, DEV).get("online") is False, what="offline in the status")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def check(tmp_path, text: str) -> tuple[int, str]:
    """The daemon's `--check-config` on a config file holding `text`: (exit code, output)."""
    path = tmp_path / "locker.toml"
    path.write_text(text)
    run = CliRunner().invoke(main, ["--config", str(path), "--check-config"])
    return run.exit_code, run.output


def test_the_example_config_checks_and_a_bad_one_gets_a_stable_code(tmp_path):
    """The shipped example passes `--check-config`; a shared compartment id, a shared pin, an
    unknown key or a missing pin is `config_invalid` naming what is wrong."""
    example = open("deploy/locker.example.toml").read()
    assert check(tmp_path, example) == (0, f"{tmp_path / 'locker.toml'}: ok (3 compartments)\n")
    bad = {'id = "a2"': ('id = "a1"', "compartment ids must be unique"),
           "relay_pin = 5": ("relay_pin = 17", "a pin of its own"),
           "occupancy_pin = 13": ("occupancy_pin = 13\ncolour = 1",
                                  "unknown key 'compartments[1].colour'"),
           "contact_pin = 6\n": ("", "Object missing required field `contact_pin`")}
    for old, (new, why) in bad.items():
        code, output = check(tmp_path, example.replace(old, new))
        assert code == 1 and "config_invalid" in output and why in output, output
