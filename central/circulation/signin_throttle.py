"""Growing waits between failed sign-ins and kiosk PINs, counted per source (an address, a
device) and per source and account there, so guessing is slow while nobody is locked out: the
real person, from their own desk, is never held back by someone else's guesses. Known and
unknown names are counted alike."""

import hashlib
from datetime import datetime, timedelta

from central.circulation.store import Store

FREE = {"source": 10, "account": 3}   # failures before any wait, per source and per name there
FIRST_WAIT = 30.0                     # seconds after the first failure past the free ones
MAX_WAIT = timedelta(minutes=15)      # a wait doubles with each further failure up to this
FORGET = timedelta(hours=1)           # a counter with no failure this long starts again


def _keys(source: str, account: str) -> dict[str, str]:
    """The counters an attempt touches, as digests (the store keeps no address and no name a
    person typed, which is often a password)."""
    return {"source": _digest("source", source),
            "account": _digest("account", source, account)}


def wait(failures: int, free: int) -> timedelta:
    """How long after its last failure a counter holds the next attempt back."""
    if failures < free:
        return timedelta(0)
    return min(timedelta(seconds=FIRST_WAIT * 2 ** (failures - free)), MAX_WAIT)


def take(s: Store, source: str, account: str) -> bool:
    """Whether an attempt may have its password checked now; if so it is counted as a failure
    at once (inside the caller's transaction, so parallel attempts each see the others'),
    and `succeeded` takes it back."""
    now = s.now()
    s.db.execute("DELETE FROM sign_in_throttle WHERE last_at < ?",
                   [(now - FORGET).isoformat()])
    keys = _keys(source, account)
    for kind, key in keys.items():
        row = s.row("SELECT failures, last_at FROM sign_in_throttle WHERE key = ?", [key])
        if row and datetime.fromisoformat(row["last_at"]) + wait(row["failures"],
                                                                 FREE[kind]) > now:
            return False
    for key in keys.values():
        s.db.execute(
            "INSERT INTO sign_in_throttle (key, failures, last_at) VALUES (?, 1, ?)"
            " ON CONFLICT (key) DO UPDATE SET failures = sign_in_throttle.failures + 1,"
            " last_at = excluded.last_at",
            [key, now.isoformat()])
    return True


def succeeded(s: Store, source: str, account: str) -> None:
    """A checked attempt was right: the name starts again from nothing there, and the source's
    count loses the failure `take` added."""
    keys = _keys(source, account)
    s.db.execute("DELETE FROM sign_in_throttle WHERE key = ?", [keys["account"]])
    s.db.execute("UPDATE sign_in_throttle SET failures = failures - 1 WHERE key = ?",
                   [keys["source"]])


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
