"""Commands to devices: queued with expiry and nonce, published by the service, results kept."""

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec

from central.handlers import Context, handler

_json = msgspec.json.Encoder()
_decode = msgspec.json.Decoder()


def issue(db, dev: str, name: str, args: dict | None = None, ttl: float = 60.0) -> str:
    """Queue a command for a device; return its nonce."""
    nonce = secrets.token_hex(16)
    now = datetime.now(UTC)
    with db.atomic():
        db.execute(
            "INSERT INTO commands (nonce, dev, name, args, expires, issued_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [nonce, dev, name, _json.encode(args or {}),
             (now + timedelta(seconds=ttl)).isoformat(), now.isoformat()],
        )
    return nonce


def due(db, now: datetime) -> list[tuple[str, dict]]:
    """Unsent, unexpired commands as (device, body), oldest first."""
    rows = db.execute(
        "SELECT dev, nonce, name, args, expires FROM commands"
        " WHERE sent_at IS NULL AND expires > ? ORDER BY issued_at", [now.isoformat()],
    ).fetchall()
    return [(dev, {"name": name, "nonce": nonce, "expires": expires, "args": _decode.decode(a)})
            for dev, nonce, name, a, expires in rows]


def mark_sent(db, nonces: list[str], now: datetime) -> None:
    """Record that commands were published."""
    with db.atomic():
        db.conn.executemany("UPDATE commands SET sent_at = ? WHERE nonce = ?",
                            [(now.isoformat(), n) for n in nonces])


class CommandResult(msgspec.Struct, forbid_unknown_fields=True):
    """`cmd.result`: what the device did with a command."""

    name: Annotated[str, msgspec.Meta(max_length=40)]
    nonce: Annotated[str, msgspec.Meta(max_length=64)]
    ok: bool
    code: Annotated[str, msgspec.Meta(max_length=40)] = ""
    result: dict = {}


@handler("cmd.result", CommandResult)
def command_result(ctx: Context, body: CommandResult) -> None:
    """Keep the device's answer beside the command (or alone, for an unknown nonce)."""
    outcome = "ok" if body.ok else body.code or "refused"
    ctx.db.conn.execute(
        "INSERT INTO command_results VALUES (?, ?, ?, ?, ?, ?)",
        (ctx.device.id, body.nonce, body.name, outcome, _json.encode(body.result),
         ctx.now.isoformat()),
    )
