"""Site card-key rotation with an overlap: every card keeps working at a door through the
rotation, the device takes the new key (signed), and once the overlap ends the old key's
hashes are gone from the lists, so a copy of the old key (a revoked device's) opens nothing."""

from datetime import UTC, datetime, timedelta

from central import fleet as central_fleet
from central import site_keys
from central.circulation import branches
from central.circulation.store import Store
from edge_common.card_keys import key_id
from edge_common.cardid import card_hash
from tests.fleet import SITE
from tests.harness import wait_for
from tests.locks import add_card, read

UID = "04A1B2C3"


def test_rotation_keeps_every_card_working_and_retires_the_old_key(fleet_central):
    fleet = fleet_central
    lock = fleet.lock(fleet.enrol("lock-7"))
    wait_for(lambda: lock.runtime.synced_at("allowlist"), what="allow-list synced")
    add_card(fleet.db, UID, lock)
    old = bytes.fromhex(central_fleet.site_key(fleet.db, SITE))
    assert lock.present("wc", read(UID)) == "granted"

    out = fleet.admin("site", "rotate-key", SITE, "--overlap-hours", "1")
    assert "sent to 1 devices (lock-7)" in out
    new = bytes.fromhex(central_fleet.site_key(fleet.db, SITE))
    assert new != old
    wait_for(lambda: lock.runtime.lookup("allowlist", card_hash(new, UID)),
             what="the card re-hashed under the new key")
    assert lock.present("wc", read(UID)) == "granted"     # old key or new: both listed
    wait_for(lambda: lock.runtime.card_keys.keys == (new, old), what="lock-7 took the new key")
    assert lock.present("wc", read(UID)) == "granted"
    assert lock.runtime.lookup("allowlist", card_hash(old, UID))   # the overlap

    assert "[rotation_pending]" in fleet.admin("site", "rotate-key", SITE, ok=False)
    assert site_keys.finish(fleet.db, datetime.now(UTC) + timedelta(hours=2)) == [SITE]
    wait_for(lambda: lock.runtime.lookup("allowlist", card_hash(old, UID)) is None,
             what="the old key's hash gone from the list")
    assert lock.present("wc", read(UID)) == "granted"
    wait_for(lambda: b'"card_key":"%s"' % key_id(new).encode() in (fleet.db.execute(
        "SELECT body FROM device_status WHERE dev = 'lock-7'").fetchone() or [b""])[0],
        what="the status names the new key")


def test_a_restarted_device_keeps_the_new_key(fleet_central):
    fleet = fleet_central
    enrolled = fleet.enrol("lock-7")
    lock = fleet.lock(enrolled)
    fleet.admin("site", "rotate-key", SITE)
    new = bytes.fromhex(central_fleet.site_key(fleet.db, SITE))
    wait_for(lambda: lock.runtime.card_keys.keys[0] == new, what="lock-7 took the new key")
    lock.stop()
    fleet.devices.remove(lock)
    again = fleet.lock(enrolled)
    assert again.runtime.card_keys.keys[0] == new


def test_rotating_a_site_without_a_key_is_refused(fleet_central):
    fleet = fleet_central
    fleet.admin("device", "list")  # makes the branch and the administrator
    branches.add_branch(Store(fleet.db), "west", "West", "Europe/Ljubljana")
    assert "[site_unknown]" in fleet.admin("site", "rotate-key", "west", ok=False)


def test_a_device_away_longer_than_a_command_lives_gets_the_key_when_back(fleet_central):
    """lock-7 is off through the whole life of its `card_key` command; when it reports its old
    key, central queues the key again, before the overlap ends."""
    fleet = fleet_central
    enrolled = fleet.enrol("lock-7")
    lock = fleet.lock(enrolled)
    wait_for(lambda: fleet.db.execute("SELECT 1 FROM device_status WHERE dev = 'lock-7'")
             .fetchone(), what="lock-7 reported")
    lock.stop()
    fleet.devices.remove(lock)
    fleet.admin("site", "rotate-key", SITE)
    fleet.db.execute("UPDATE commands SET expires = '2000-01-01T00:00:00+00:00'")  # missed
    new = bytes.fromhex(central_fleet.site_key(fleet.db, SITE))
    back = fleet.lock(enrolled)
    wait_for(lambda: back.runtime.card_keys.keys[0] == new, what="lock-7 got the key late")
