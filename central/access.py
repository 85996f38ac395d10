"""Door access decisions reported by locks, kept as central's access log."""

from typing import Annotated

import msgspec

from central.handlers import Context, handler

Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class AccessDecision(msgspec.Struct, forbid_unknown_fields=True):
    """`access.decision`: a door's verdict on a presented card (hash only)."""

    door: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    card: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
    result: Code


@handler("access.decision", AccessDecision, kinds={"lockd"})
def access_decision(ctx: Context, body: AccessDecision) -> None:
    """Append the decision to the access log."""
    ctx.db.conn.execute(
        "INSERT INTO access_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (ctx.device.id, ctx.device.site, body.door, body.card, body.result,
         ctx.sent_at.isoformat(), ctx.seq, ctx.now.isoformat()),
    )
