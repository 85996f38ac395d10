"""Commands to devices: queued with expiry and nonce, published by the service, results kept."""

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from central import fleet
from central.database import Database
from central.handlers import Context, HandlerError, handler
from edge_common.protocol.commands import (
    COMMAND_RESULT,
    Command,
    CommandResult,
    command_args,
    sign,
)

_json = msgspec.json.Encoder()
_decode = msgspec.json.Decoder()


def issue(db: Database, dev: str, name: str, args: dict[str, Any] | None = None,
          ttl: float = 60.0) -> str:
    """Queue a declared command with checked arguments (strings are converted); return its nonce.

    An unknown command is refused with `command_unknown`, bad arguments with `command_invalid`,
    a device that is not enrolled (or revoked) with `device_unknown`, one enrolled before
    devices had command keys with `device_has_no_key` (enrol it again).
    """
    if fleet.command_key(db, dev) is None:
        known = db.execute("SELECT 1 FROM devices WHERE id = ? AND revoked_at IS NULL",
                           [dev]).fetchone()
        raise HandlerError(f"{dev} cannot take commands",
                           code="device_has_no_key" if known else "device_unknown")
    try:
        checked = msgspec.to_builtins(command_args(name, args or {}, lenient=True))
    except KeyError:
        raise HandlerError(f"no command {name!r}", code="command_unknown") from None
    except msgspec.ValidationError as exc:
        raise HandlerError(f"{name}: {exc}", code="command_invalid") from exc
    nonce = secrets.token_hex(16)
    now = datetime.now(UTC)
    with db.transaction():
        db.execute(
            "INSERT INTO commands (nonce, dev, name, args, expires, issued_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [nonce, dev, name, _json.encode(checked),
             (now + timedelta(seconds=ttl)).isoformat(), now.isoformat()],
        )
    return nonce


def due(db: Database, now: datetime) -> list[tuple[str, Command]]:
    """Unsent, unexpired commands as (device, body signed with its key), oldest first; a
    device revoked meanwhile gets nothing."""
    rows = db.execute(
        "SELECT c.dev, c.nonce, c.name, c.args, c.expires, d.command_key FROM commands c"
        " JOIN devices d ON d.id = c.dev AND d.revoked_at IS NULL AND d.command_key IS NOT NULL"
        " WHERE c.sent_at IS NULL AND c.expires > ? ORDER BY c.issued_at, c.id", [now.isoformat()],
    ).fetchall()
    return [(dev, sign(bytes.fromhex(key), Command(
        dev=dev, name=name, expires=datetime.fromisoformat(expires), nonce=nonce,
        args=_decode.decode(a)))) for dev, nonce, name, a, expires, key in rows]


def mark_sent(db: Database, nonces: list[str], now: datetime) -> None:
    """Record that commands were published."""
    with db.transaction():
        db.executemany("UPDATE commands SET sent_at = ? WHERE nonce = ?",
                            [(now.isoformat(), n) for n in nonces])


@handler(COMMAND_RESULT)
def command_result(ctx: Context, body: CommandResult) -> None:
    """Keep the device's answer beside the command (or alone, for an unknown nonce); a
    `resync` it took means it no longer holds lists from before a restore."""
    outcome = "ok" if body.ok else body.code or "refused"
    ctx.db.execute(
        "INSERT INTO command_results (dev, nonce, name, outcome, result, at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (ctx.device.id, body.nonce, body.name, outcome, _json.encode(body.result),
         ctx.received),
    )
    if body.name == "resync" and body.ok:
        ctx.db.execute("UPDATE devices SET resync_due = 0 WHERE id = ?", [ctx.device.id])
