"""Staff sign-in for the web pages: argon2 password hashes, throttled guessing, sessions."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from central.circulation import audit, branches, signin_throttle
from central.circulation.errors import Forbidden, Refused
from central.circulation.store import Store

SESSION_IDLE = timedelta(hours=8)        # a session unused this long is over
SESSION_MAX = timedelta(hours=12)        # and any session this long after its sign-in
MIN_PASSWORD = 10
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("no account has this password")   # same work for unknown accounts


@dataclass(frozen=True)
class Session:
    """A signed-in member of staff: who, with which role and branches, and the form token."""

    staff_id: str
    name: str
    role: str
    branches: list[str]
    csrf: str


def set_password(s: Store, staff_id: str, password: str) -> None:
    """Give a staff account a new password (stored as an argon2 hash); every session opened
    with the old one ends."""
    branches.staff(s, staff_id)
    if len(password) < MIN_PASSWORD:
        raise Refused(f"a password has at least {MIN_PASSWORD} characters",
                      code="password_too_short")
    with s.atomic():
        s.update("staff", staff_id, {"password_hash": _hasher.hash(password)})
        s.db.execute("DELETE FROM staff_sessions WHERE staff_id = ?", [staff_id])


def sign_in(s: Store, staff_id: str, password: str, source: str) -> str:
    """Check the password and open a new session; return its token (a fresh one every time, so
    a token planted before sign-in is worthless). Refused alike for unknown accounts and wrong
    passwords (`login_failed`), and alike for both while `source` must wait after failures
    (`login_throttled`, the password unchecked)."""
    actor, subject = audit.Actor(staff_id), f"staff:{staff_id}"
    with s.atomic():
        allowed = signin_throttle.take(s, source, staff_id)
        if not allowed:
            audit.record(s, actor, "staff.sign_in", subject, outcome="login_throttled")
    if not allowed:
        raise Forbidden("too many failed attempts: wait a little", code="login_throttled")
    stored = s.scalar("SELECT password_hash FROM staff WHERE id = ?", [staff_id])
    if not _verified(stored, password):
        with s.atomic():
            audit.record(s, actor, "staff.sign_in", subject, outcome="login_failed")
        raise Forbidden("unknown account or wrong password", code="login_failed")
    token = secrets.token_urlsafe(32)
    now = s.now().isoformat()
    with s.atomic():
        signin_throttle.succeeded(s, source, staff_id)
        s.insert("staff_sessions", {"id": _digest(token), "staff_id": staff_id,
                                    "csrf": secrets.token_urlsafe(32),
                                    "created_at": now, "seen_at": now})
        audit.record(s, actor, "staff.sign_in", subject, outcome="ok")
    return token


def _verified(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def session(s: Store, token: str) -> Session | None:
    """The live session a token opens (its idle time restarts), or None: unused for
    SESSION_IDLE, or SESSION_MAX after its sign-in, a session is over."""
    now = s.now()
    found = s.row("SELECT staff_id, csrf, created_at, seen_at FROM staff_sessions WHERE id = ?",
                  [_digest(token)])
    if found is None or datetime.fromisoformat(found["seen_at"]) + SESSION_IDLE < now \
            or datetime.fromisoformat(found["created_at"]) + SESSION_MAX < now:
        return None
    if now - datetime.fromisoformat(found["seen_at"]) > timedelta(minutes=1):
        with s.atomic():
            s.db.execute("UPDATE staff_sessions SET seen_at = ? WHERE id = ?",
                           [now.isoformat(), _digest(token)])
    account = branches.staff(s, found["staff_id"])
    return Session(account["id"], account["name"], account["role"], account["branches"],
                   found["csrf"])


def sign_out(s: Store, token: str) -> None:
    """End a session."""
    with s.atomic():
        s.db.execute("DELETE FROM staff_sessions WHERE id = ?", [_digest(token)])


def csrf_ok(session: Session, sent: str) -> bool:
    """Whether a form carried the session's own token."""
    return hmac.compare_digest(session.csrf.encode(), sent.encode())


def _digest(token: str) -> str:
    """What the store keeps of a session token: its SHA-256, so a copied database opens none."""
    return hashlib.sha256(token.encode()).hexdigest()
