"""Configuration as data: central keeps every version of a device's config and pushes a new
one as a signed `config` command; lockd checks it with its schema, applies door rules at once,
reports the version in force, keeps it across restarts, and refuses an invalid one."""

import msgspec
import pytest
from gpiozero.pins.mock import MockFactory

from central import device_config
from central.device_config import ConfigKeyRefused
from edge_common.config import load
from lockd.config import LockdConfig
from lockd.daemon import LockDaemon
from tests.harness import wait_for


def reported(fleet, dev: str) -> int | None:
    """The config version the device last reported in its status, as central keeps it."""
    row = fleet.db.execute("SELECT body FROM device_status WHERE dev = ?", [dev]).fetchone()
    return msgspec.json.decode(row[0])["body"].get("config_version") if row else None


def outcomes(fleet, dev: str) -> list[str]:
    """What the device answered to its `config` commands, oldest first."""
    return [r[0] for r in fleet.db.execute(
        "SELECT outcome FROM command_results WHERE dev = ? AND name = 'config' ORDER BY id",
        [dev])]


def test_a_pushed_config_applies_live_and_a_bad_one_is_refused_keeping_the_old(fleet_central):
    fleet = fleet_central
    enrolled = fleet.enrol("lock-7")
    lock = fleet.lock(enrolled)
    wait_for(lambda: reported(fleet, "lock-7") == 1, what="lock-7 reports config v1")

    fleet.admin("device", "config", "lock-7", "set", "door.wc.policy.rate_limit_seconds=30")
    wait_for(lambda: outcomes(fleet, "lock-7") == ["ok"], what="config v2 taken")
    assert lock.doors["wc"].cfg.policy.rate_limit_seconds == 30   # live, no restart
    wait_for(lambda: reported(fleet, "lock-7") == 2, what="lock-7 reports config v2")

    fleet.admin("device", "config", "lock-7", "set", "door.wc.unlock_seconds=999")
    wait_for(lambda: len(outcomes(fleet, "lock-7")) == 2, what="config v3 answered")
    assert outcomes(fleet, "lock-7")[1] == "config_invalid"
    assert lock.doors["wc"].cfg.unlock_seconds == 0.5 and lock.config.version == 2

    lock.stop()
    fleet.devices.remove(lock)
    again = LockDaemon(load(enrolled.config, LockdConfig), MockFactory())  # file: v1
    try:
        assert again.config.version == 2
        assert again.cfg.doors[0].policy.rate_limit_seconds == 30
    finally:
        again.stop()


def test_a_config_that_changes_pins_is_kept_for_the_next_start(fleet_central):
    fleet = fleet_central
    lock = fleet.lock(fleet.enrol("lock-7"))
    fleet.admin("device", "config", "lock-7", "set", "door.wc.relay_pin=18")
    wait_for(lambda: outcomes(fleet, "lock-7") == ["ok"], what="config v2 taken")
    assert lock.config.version == 2 and lock.doors["wc"].cfg.relay_pin == 17
    result = fleet.db.execute("SELECT result FROM command_results WHERE name = 'config'")
    assert msgspec.json.decode(result.fetchone()[0]) == {"version": 2, "restart_needed": True}


def test_a_device_away_longer_than_a_command_lives_gets_its_config_when_back(fleet_central):
    """lock-7 is off through the whole life of its `config` command; when its status shows
    the older version, central pushes the newest again (an answered version never again)."""
    fleet = fleet_central
    enrolled = fleet.enrol("lock-7")
    lock = fleet.lock(enrolled)
    wait_for(lambda: reported(fleet, "lock-7") == 1, what="lock-7 reports config v1")
    lock.stop()
    fleet.devices.remove(lock)
    fleet.admin("device", "config", "lock-7", "set", "door.wc.policy.rate_limit_seconds=30")
    fleet.db.execute("UPDATE commands SET expires = '2000-01-01T00:00:00+00:00'")  # missed
    back = fleet.lock(enrolled)
    wait_for(lambda: back.config.version == 2, what="lock-7 got config v2 late")
    wait_for(lambda: outcomes(fleet, "lock-7") == ["ok"], what="its answer at central")


def test_keys_are_set_by_path_with_toml_values():
    body = {"doors": [{"id": "wc", "policy": {}}], "gpio": {}}
    after = device_config.assign(body, "door.wc.policy.categories=[\"adult\"]")
    after = device_config.assign(after, "gpio.pin_factory=mock")
    assert after["doors"][0]["policy"]["categories"] == ["adult"]
    assert after["gpio"]["pin_factory"] == "mock" and body["gpio"] == {}
    for bad, code in (("door.nope.unlock_seconds=1", "door_unknown"),
                      ("mqtt.host=evil", "config_key_local"), ("door.wc", "config_key_invalid"),
                      ("a..b=1", "config_key_invalid")):
        with pytest.raises(ConfigKeyRefused) as exc:
            device_config.assign(body, bad)
        assert exc.value.code == code
