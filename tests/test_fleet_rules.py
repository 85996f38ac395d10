"""The fleet's rules at central, without the network: one-time invitations, devices' command
keys across revocation, and site card-key rotation after a device was revoked."""

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest

from central import fleet, invitations, site_keys
from central.circulation import allowlist, patrons, sites
from central.circulation.store import Store
from central.invitations import TokenRefused
from central.site_keys import RotationRefused
from central.store import open_store
from edge_common.cardid import card_hash
from edge_common.commands import MAX_TTL
from edge_common.migrations import connect
from tests.circ import install

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


@pytest.fixture
def db(tmp_path):
    """A central store with the site `main` and its card key."""
    db = open_store(str(tmp_path / "central.db"))
    sites.open_site(db, "main")
    return db


def refused(code: str, fn, *args, said: str | None = None, **kw) -> None:
    """`fn(*args, **kw)` raises an EdgeError with `code` (and, given `said`, the words
    shown beside the code)."""
    with pytest.raises((TokenRefused, RotationRefused)) as exc:
        fn(*args, **kw)
    assert exc.value.code == code
    assert said is None or str(exc.value) == said


# --- invitations ------------------------------------------------------------------------

def test_a_token_redeems_once_as_issued_and_only_until_the_instant_it_expires(db):
    token, inv = invitations.invite(db, "lock-1", "main", "lockd", timedelta(hours=1), now=T0)
    assert (inv.dev, inv.site, inv.kind, inv.expires) == ("lock-1", "main", "lockd",
                                                          T0 + timedelta(hours=1))
    late, _ = invitations.invite(db, "lock-2", "main", "lockd", timedelta(hours=1), now=T0)
    refused("token_expired", invitations.redeem, db, late, now=T0 + timedelta(hours=1))
    got = invitations.redeem(db, f"  {token}\n", now=T0 + timedelta(hours=1) - TICK)
    assert got == inv
    assert db.execute("SELECT used_at FROM invitations WHERE id = ?", [inv.id]).fetchone() == (
        (T0 + timedelta(hours=1) - TICK).isoformat(),)
    refused("token_used", invitations.redeem, db, token, now=T0,
            said=f"token for lock-1 was used at {(T0 + timedelta(hours=1) - TICK).isoformat()}")
    ident, _, secret = token.partition(".")
    assert len(ident) == 12 and len(secret) == 32     # a 48-bit id and a 192-bit secret
    refused("token_invalid", invitations.redeem, db, f"{ident}.{secret[::-1]}", now=T0,
            said="no invitation has this token")
    refused("token_invalid", invitations.redeem, db, ident, now=T0)
    refused("token_expired", invitations.redeem, db, late, now=T0 + timedelta(days=1),
            said=f"token for lock-2 expired at {(T0 + timedelta(hours=1)).isoformat()}")


def test_invitations_on_the_real_clock_expire_a_day_after_they_are_made(db):
    before = datetime.now(UTC)
    token, inv = invitations.invite(db, "lock-1", "main", "lockd")
    assert before + invitations.DEFAULT_TTL <= inv.expires <= datetime.now(UTC) + timedelta(
        days=1)
    assert invitations.redeem(db, token) == inv


def test_a_new_invitation_voids_the_devices_unused_one_and_keeps_what_was_used(db):
    """The docstring's promise: inviting a device again voids its earlier unused token (a
    leaked one enrols nothing), leaves other devices' tokens, and a used one stays used."""
    first, _ = invitations.invite(db, "lock-1", "main", "lockd", now=T0)
    other, _ = invitations.invite(db, "lock-2", "main", "lockd", now=T0)
    second, _ = invitations.invite(db, "lock-1", "main", "lockd", now=T0)
    refused("token_invalid", invitations.redeem, db, first, now=T0)
    assert invitations.redeem(db, second, now=T0).dev == "lock-1"
    invitations.invite(db, "lock-1", "main", "lockd", now=T0)   # after a used one
    refused("token_used", invitations.redeem, db, second, now=T0)
    assert invitations.redeem(db, other, now=T0).dev == "lock-2"
    assert all(secret.partition(".")[2] not in json.dumps(list(row)) for row in db.execute(
        "SELECT * FROM invitations") for secret in (first, second, other))


# --- command keys ---------------------------------------------------------------------------

def test_a_revoked_device_enrolled_again_gets_a_new_command_key(db):
    """Its old key (a stolen device's copy) signs nothing it will take; an active device
    enrolled again keeps its key, so its config stays valid, and may move site or kind."""
    old = fleet.enrol(db, "lock-1", "main", "lockd")
    assert fleet.enrol(db, "lock-1", "west", "kiosk") == old
    assert db.execute("SELECT site, kind FROM devices WHERE id = 'lock-1'").fetchone() == (
        "west", "kiosk")
    assert fleet.command_key(db, "lock-1") == bytes.fromhex(old)
    before = datetime.now(UTC)
    assert fleet.revoke(db, "lock-1") is True
    enrolled, revoked = (datetime.fromisoformat(v) for v in db.execute(
        "SELECT enrolled_at, revoked_at FROM devices WHERE id = 'lock-1'").fetchone())
    assert enrolled <= before <= revoked <= datetime.now(UTC)     # UTC times, in order
    assert fleet.revoke(db, "lock-1") is False and fleet.revoke(db, "nobody") is False
    assert fleet.command_key(db, "lock-1") is None and fleet.command_key(db, "nobody") is None
    new = fleet.enrol(db, "lock-1", "main", "lockd")
    assert new != old and len(new) == 64
    assert fleet.command_key(db, "lock-1") == bytes.fromhex(new)
    assert db.execute("SELECT revoked_at FROM devices WHERE id = 'lock-1'").fetchone() == (None,)
    with db.transaction():   # a device enrolled before devices had command keys
        db.execute("UPDATE devices SET command_key = NULL WHERE id = 'lock-1'")
    assert fleet.command_key(db, "lock-1") is None
    assert fleet.enrol(db, "lock-1", "main", "lockd") not in (None, "", old, new)


def test_site_keys_are_per_site_and_made_once(db):
    key = fleet.site_key(db, "main")
    assert key and len(key) == 64 and sites.open_site(db, "main") == key
    assert fleet.site_key(db, "west") is None
    west = sites.open_site(db, "west")
    assert west != key and fleet.site_key(db, "west") == west


# --- site key rotation ---------------------------------------------------------------------

def queued_keys(db) -> dict[str, str]:
    """The `card_key` command queued for each device, by device."""
    return {dev: json.loads(args)["key"] for dev, args in db.execute(
        "SELECT dev, args FROM commands WHERE name = 'card_key'")}


def test_a_site_rotates_its_key_right_after_a_device_was_revoked(db):
    """Exactly when a site rotates: a lock was stolen and revoked. The rotation reaches the
    site's active devices only (not the revoked one, nor another site's, nor one without a
    command key), and every card is listed under both keys until the overlap ends, to the
    instant."""
    s = install(Store(db), [("main", "Main")])
    pid = patrons.add_patron(s, "Novak", "adult", branch="main")
    patrons.add_card(s, pid, "04A1B2C3")
    for dev in ("lock-1", "lock-2", "kiosk-1"):
        fleet.enrol(db, dev, "main", "lockd")
    fleet.enrol(db, "lock-9", "west", "lockd")
    with db.transaction():   # enrolled before devices had command keys
        db.execute("INSERT INTO devices (id, site, kind, enrolled_at) VALUES"
                   " ('lock-0', 'main', 'lockd', ?)", [T0.isoformat()])
    fleet.revoke(db, "lock-2")
    old = fleet.site_key(db, "main")
    key, devices = site_keys.rotate(db, "main", timedelta(hours=2), now=T0)
    assert devices == ["kiosk-1", "lock-1"]
    assert queued_keys(db) == {"kiosk-1": key, "lock-1": key}
    assert fleet.site_key(db, "main") == key != old
    listed = {card_hash(bytes.fromhex(k), "04A1B2C3") for k in (old, key)}
    assert all(allowlist.card_of(db, "main", h) == "04A1B2C3" for h in listed)
    refused("rotation_pending", site_keys.rotate, db, "main", now=T0 + timedelta(days=9),
            said="site main is still in an overlap")
    refused("site_unknown", site_keys.rotate, db, "nowhere", now=T0,
            said="site nowhere has no card key yet")
    assert site_keys.finish(db, T0 + timedelta(hours=2) - TICK) == []
    assert allowlist.card_of(db, "main", card_hash(bytes.fromhex(old), "04A1B2C3"))
    assert site_keys.finish(db, T0 + timedelta(hours=2)) == ["main"]
    assert allowlist.card_of(db, "main", card_hash(bytes.fromhex(old), "04A1B2C3")) is None
    assert allowlist.card_of(db, "main", card_hash(bytes.fromhex(key), "04A1B2C3"))
    again, _ = site_keys.rotate(db, "main", now=T0 + timedelta(hours=3))
    assert again != key


def test_a_rotation_on_the_real_clock_ends_its_overlap_whatever_the_machines_zone(
        db, monkeypatch):
    """The overlap's end is a UTC time, and the key's command lives as long as a command may
    (a device away meanwhile still gets it), also when the machine's clock is not on UTC."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        fleet.enrol(db, "lock-1", "main", "lockd")
        site_keys.rotate(db, "main", timedelta(0))
        until = datetime.fromisoformat(db.execute(
            "SELECT until FROM site_keys_previous").fetchone()[0])
        assert until.utcoffset() == timedelta(0)
        issued, expires = (datetime.fromisoformat(v) for v in db.execute(
            "SELECT issued_at, expires FROM commands WHERE name = 'card_key'").fetchone())
        assert expires - issued == MAX_TTL
        assert site_keys.finish(db) == ["main"]
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_write_that_reads_first_is_not_refused_when_another_process_writes_meanwhile(db):
    """`fleet.enrol` reads the device, then writes it. Another process (the web, a CLI, a
    second worker) writes between the two: the enrolment still succeeds, because its
    transaction took the write lock first; a deferred one failed with "database is locked"."""
    other = connect(db.conn.execute("PRAGMA database_list").fetchone()[2])
    other.execute("PRAGMA busy_timeout = 0")
    held_off: list[str] = []

    def meanwhile(sql: str) -> None:
        if sql.startswith("INSERT INTO devices") and not held_off:
            try:
                other.execute("INSERT INTO devices (id, site, kind, enrolled_at) VALUES"
                              " ('lock-2', 'main', 'lockd', '2026-12-07')")
            except sqlite3.OperationalError as exc:
                held_off.append(str(exc))

    db.conn.set_trace_callback(meanwhile)
    key = fleet.enrol(db, "lock-1", "main", "lockd")
    db.conn.set_trace_callback(None)
    assert fleet.command_key(db, "lock-1") == bytes.fromhex(key)
    assert held_off == ["database is locked"]     # the other writer waits its turn
    other.close()
