"""Commands to devices: queued with expiry and nonce, published by the service, results kept."""

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import sqlite_utils

from central.handlers import Context, HandlerError, handler
from edge_common.protocol.commands import COMMAND_RESULT, Command, CommandResult, command_args

_json = msgspec.json.Encoder()
_decode = msgspec.json.Decoder()


def issue(db: sqlite_utils.Database, dev: str, name: str, args: dict[str, Any] | None = None,
          ttl: float = 60.0) -> str:
    """Queue a declared command with checked arguments (strings are converted); return its nonce.

    An unknown command is refused with `command_unknown`, bad arguments with `command_invalid`.
    """
    try:
        checked = msgspec.to_builtins(command_args(name, args or {}, lenient=True))
    except KeyError:
        raise HandlerError(f"no command {name!r}", code="command_unknown") from None
    except msgspec.ValidationError as exc:
        raise HandlerError(f"{name}: {exc}", code="command_invalid") from exc
    nonce = secrets.token_hex(16)
    now = datetime.now(UTC)
    with db.atomic():
        db.execute(
            "INSERT INTO commands (nonce, dev, name, args, expires, issued_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [nonce, dev, name, _json.encode(checked),
             (now + timedelta(seconds=ttl)).isoformat(), now.isoformat()],
        )
    return nonce


def due(db: sqlite_utils.Database, now: datetime) -> list[tuple[str, Command]]:
    """Unsent, unexpired commands as (device, body), oldest first."""
    rows = db.execute(
        "SELECT dev, nonce, name, args, expires FROM commands"
        " WHERE sent_at IS NULL AND expires > ? ORDER BY issued_at", [now.isoformat()],
    ).fetchall()
    return [(dev, Command(name, datetime.fromisoformat(expires), nonce, _decode.decode(a)))
            for dev, nonce, name, a, expires in rows]


def mark_sent(db: sqlite_utils.Database, nonces: list[str], now: datetime) -> None:
    """Record that commands were published."""
    with db.atomic():
        db.conn.executemany("UPDATE commands SET sent_at = ? WHERE nonce = ?",
                            [(now.isoformat(), n) for n in nonces])


@handler(COMMAND_RESULT)
def command_result(ctx: Context, body: CommandResult) -> None:
    """Keep the device's answer beside the command (or alone, for an unknown nonce)."""
    outcome = "ok" if body.ok else body.code or "refused"
    ctx.db.conn.execute(
        "INSERT INTO command_results VALUES (?, ?, ?, ?, ?, ?)",
        (ctx.device.id, body.nonce, body.name, outcome, _json.encode(body.result),
         ctx.now.isoformat()),
    )
