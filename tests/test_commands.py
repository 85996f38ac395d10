"""Commands carry an expiry and a nonce: stale, replayed and malformed ones are refused."""

from datetime import UTC, datetime, timedelta

import pytest

from central import commands
from edge_common.commands import CommandGuard, CommandRefused
from edge_common.errors import EdgeError
from tests.harness import wait_for

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def body(**kw):
    return {"name": "open", "nonce": "n" * 32,
            "expires": (NOW + timedelta(seconds=30)).isoformat()} | kw


@pytest.fixture
def guard(tmp_path):
    g = CommandGuard(str(tmp_path / "c.db"))
    yield g
    g.close()


def test_fresh_command_is_admitted_once_even_across_restart(guard, tmp_path):
    assert guard.admit(body(), NOW).name == "open"
    with pytest.raises(CommandRefused) as err:
        guard.admit(body(), NOW + timedelta(seconds=1))
    assert err.value.code == "command_replayed"
    again = CommandGuard(str(tmp_path / "c.db"))
    with pytest.raises(CommandRefused):
        again.admit(body(), NOW + timedelta(seconds=2))
    again.close()


@pytest.mark.parametrize("changes, code", [
    ({"expires": (NOW - timedelta(seconds=1)).isoformat()}, "command_expired"),
    ({"expires": (NOW + timedelta(hours=2)).isoformat()}, "command_invalid"),
    ({"nonce": "short"}, "command_invalid"),
    ({"name": 5}, "command_invalid"),
    ({"expires": "2026-11-23T20:00:30"}, "command_invalid"),
    ({"sudo": True}, "command_invalid"),
])
def test_bad_commands_are_refused_with_codes(guard, changes, code):
    with pytest.raises(CommandRefused) as err:
        guard.admit(body(**changes), NOW)
    assert err.value.code == code


def test_expired_nonces_are_forgotten(guard):
    guard.admit(body(), NOW)
    later = NOW + timedelta(minutes=5)
    guard.admit(body(expires=(later + timedelta(seconds=30)).isoformat()), later)
    assert guard._db.execute("SELECT count(*) FROM seen_nonces").fetchone()[0] == 1


def _queue_undeclared(db, dev: str, name: str) -> str:
    """Queue a command central would refuse to issue, as a rogue or older central might."""
    nonce = "f" * 32
    expires = (datetime.now(UTC) + timedelta(seconds=60)).isoformat()
    with db.atomic():
        db.execute("INSERT INTO commands (nonce, dev, name, args, expires, issued_at)"
                   " VALUES (?, ?, ?, '{}', ?, ?)", [nonce, dev, name, expires, expires])
    return nonce


def test_command_travels_to_the_device_and_its_result_back(net):
    net.start_central()
    seen = []

    def on_command(cmd):
        if cmd.name != "open":
            raise CommandRefused(cmd.name, code="command_unknown")
        opened = {"opened": cmd.args["door"]}
        seen.append(cmd.args)
        return opened

    dev = net.device("lock-1")
    dev._on_command = on_command
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
        assert seen == [{"door": "d1"}]
    finally:
        dev.stop()
