"""One-time enrolment tokens: staff invite a device (id, site, kind), the device redeems the
token once, before it expires. Central keeps only each token's SHA-256."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from central.circulation.store import Store
from central.database import Database
from edge_common import ids
from edge_common.errors import EdgeError

DEFAULT_TTL = timedelta(hours=24)


class TokenRefused(EdgeError, PermissionError):
    """A token that enrols nothing: `token_invalid` (malformed, unknown or forged),
    `token_expired` or `token_used`."""

    code = "token_invalid"


@dataclass(frozen=True)
class Invitation:
    """What a token enrols: a device id at a site, of a kind, until `expires`."""

    id: str
    dev: str
    site: str
    kind: str
    expires: datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invite(db: Database, dev: str, site: str, kind: str,
           ttl: timedelta = DEFAULT_TTL, now: datetime | None = None) -> tuple[str, Invitation]:
    """Create an invitation; return the token (shown once, never stored) and the invitation.

    An earlier unused invitation for the same device stops working. Ids off the pattern, a
    service account's name or an unknown kind are refused (IdRefused) before anything is kept.
    """
    dev, site, kind = ids.placement(dev, site, kind)
    now = now or datetime.now(UTC)
    inv = Invitation(secrets.token_hex(6), dev, site, kind, now + ttl)
    secret = secrets.token_urlsafe(24)
    with Store(db).atomic():
        db.execute("DELETE FROM invitations WHERE dev = ? AND used_at IS NULL", [dev])
        db.execute(
            "INSERT INTO invitations (id, dev, site, kind, secret_sha256, created_at, expires)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [inv.id, dev, site, kind, _digest(secret), now.isoformat(),
             inv.expires.isoformat()])
    return f"{inv.id}.{secret}", inv


def redeem(db: Database, token: str, now: datetime | None = None) -> Invitation:
    """Mark the token's invitation used (in the caller's transaction) and return it, or raise
    TokenRefused with its code."""
    now = now or datetime.now(UTC)
    ident, _, secret = token.strip().partition(".")
    row = db.execute("SELECT dev, site, kind, secret_sha256, expires, used_at FROM invitations"
                     " WHERE id = ?", [ident]).fetchone() if secret else None
    if row is None or not hmac.compare_digest(row[3], _digest(secret)):
        raise TokenRefused("no invitation has this token")
    inv = Invitation(ident, row[0], row[1], row[2], datetime.fromisoformat(row[4]))
    if row[5] is not None:
        raise TokenRefused(f"token for {inv.dev} was used at {row[5]}", code="token_used")
    if inv.expires <= now:
        raise TokenRefused(f"token for {inv.dev} expired at {row[4]}", code="token_expired")
    db.execute("UPDATE invitations SET used_at = ? WHERE id = ?", [now.isoformat(), ident])
    return inv
