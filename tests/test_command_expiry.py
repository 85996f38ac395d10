"""A command that expired before its device saw it is refused end to end: the door stays shut."""


from datetime import UTC, datetime

from central import commands
from tests.harness import wait_for
from tests.locks import RELAY, start_lock
from tests.proxy import Proxy


def outcomes(net, nonce: str) -> list[str]:
    """What the device reported to central about one command."""
    return [r[0] for r in net.db.execute(
        "SELECT outcome FROM command_results WHERE nonce = ? ORDER BY id", [nonce])]


def sent_or_expired(net, nonce: str) -> tuple[str | None, str] | None:
    """The command's (sent_at, expires) once central published it or it expired, else None."""
    row = net.db.execute("SELECT sent_at, expires FROM commands WHERE nonce = ?",
                         [nonce]).fetchone()
    done = row[0] is not None or datetime.fromisoformat(row[1]) < datetime.now(UTC)
    return tuple(row) if done else None


def published_before_expiry(net) -> tuple[str, datetime]:
    """Issue an `open` for lock-1 and wait until central published it; one that expired before
    central could publish it (a very slow machine) is issued again with a longer life."""
    for ttl in (1.0, 4.0, 16.0):
        nonce = commands.issue(net.db, "lock-1", "open", {"door": "wc"}, ttl=ttl)
        sent, expires = wait_for(lambda n=nonce: sent_or_expired(net, n),
                                 what="command published or expired")
        if sent:
            return nonce, datetime.fromisoformat(expires)
    raise AssertionError("central published no command before its expiry")


def test_an_open_that_expired_while_the_lock_was_cut_off_is_refused_and_the_door_stays_shut(
        net, tmp_path):
    """Central publishes an `open` while the lock's link is cut; the broker keeps it in the
    lock's session. The lock gets it after it expired: it refuses it as command_expired, says
    so to central, and never energises the relay; a fresh `open` then works."""
    net.start_central()
    proxy = Proxy(net.broker.port)
    lock = start_lock(net, tmp_path, port=proxy.port)
    relay = lock.factory.pin(RELAY)
    try:
        proxy.cut("drop")
        wait_for(lambda: net.db.execute("SELECT online FROM device_status WHERE dev = 'lock-1'"
                                        ).fetchone() == (0,), what="the broker saw it go")
        nonce, expires = published_before_expiry(net)
        wait_for(lambda: datetime.now(UTC) > expires, what="the command expired")
        proxy.restore()
        assert wait_for(lambda: outcomes(net, nonce), what="outcome at central") == [
            "command_expired"]
        assert [s.state for s in relay.states] == [0]                 # never energised
        fresh = commands.issue(net.db, "lock-1", "open", {"door": "wc"})
        assert wait_for(lambda: outcomes(net, fresh), what="fresh outcome") == ["ok"]
        assert 1 in [s.state for s in relay.states]
    finally:
        lock.stop()
        proxy.close()
