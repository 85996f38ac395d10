"""What locks report: access decisions (the access log), alarms, exits and evening sweeps."""

from typing import Annotated, Literal

import msgspec

from central.handlers import Context, handler

Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
CardHash = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class AccessDecision(msgspec.Struct, forbid_unknown_fields=True):
    """`access.decision`: a door's verdict on a presented card (hash only)."""

    door: Name
    card: CardHash
    result: Code
    room: Name | None = None
    direction: Literal["in", "out"] = "in"


class DoorAlarm(msgspec.Struct, forbid_unknown_fields=True):
    """`door.alarm`: an alarm raised or cleared at a door."""

    door: Name
    alarm: Code
    active: bool


class DoorExit(msgspec.Struct, forbid_unknown_fields=True):
    """`door.exit`: someone left through the exit button."""

    door: Name
    room: Name


class Sweep(msgspec.Struct, forbid_unknown_fields=True):
    """`presence.sweep`: who may still be inside a room at the end of the evening."""

    room: Name
    count: Annotated[int, msgspec.Meta(ge=0)]
    inside: Annotated[list[CardHash], msgspec.Meta(max_length=10_000)]


@handler("access.decision", AccessDecision, kinds={"lockd"})
def access_decision(ctx: Context, body: AccessDecision) -> None:
    """Append the decision to the access log and keep the room's roster."""
    conn = ctx.db.conn
    dev, site = ctx.device.id, ctx.device.site
    conn.execute(
        "INSERT INTO access_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (dev, site, body.door, body.card, body.result, ctx.sent_at.isoformat(), ctx.seq,
         ctx.now.isoformat()),
    )
    if body.result != "granted":
        return
    room = body.room or body.door
    if body.direction == "in":
        conn.execute(
            "INSERT INTO roster VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
            " entered_at = excluded.entered_at", (site, room, body.card, ctx.sent_at.isoformat()),
        )
    else:
        conn.execute("DELETE FROM roster WHERE site = ? AND room = ? AND card = ?",
                     (site, room, body.card))


@handler("door.alarm", DoorAlarm, kinds={"lockd"})
def door_alarm(ctx: Context, body: DoorAlarm) -> None:
    """Record the alarm change; open alarms are what facilities staff see."""
    ctx.db.conn.execute(
        "INSERT INTO door_alarms VALUES (?, ?, ?, ?, ?, ?)",
        (ctx.device.id, ctx.device.site, body.door, body.alarm, int(body.active),
         ctx.sent_at.isoformat()),
    )


@handler("door.exit", DoorExit, kinds={"lockd"})
def door_exit(ctx: Context, body: DoorExit) -> None:
    """Count an anonymous exit in the access log."""
    ctx.db.conn.execute(
        "INSERT INTO access_log VALUES (?, ?, ?, '', 'exit_button', ?, ?, ?)",
        (ctx.device.id, ctx.device.site, body.door, ctx.sent_at.isoformat(), ctx.seq,
         ctx.now.isoformat()),
    )


@handler("presence.sweep", Sweep, kinds={"lockd"})
def presence_sweep(ctx: Context, body: Sweep) -> None:
    """Keep the sweep and start the room's roster afresh."""
    conn = ctx.db.conn
    conn.execute(
        "INSERT INTO sweeps VALUES (?, ?, ?, ?, ?)",
        (ctx.device.site, body.room, body.count, msgspec.json.encode(body.inside),
         ctx.sent_at.isoformat()),
    )
    conn.execute("DELETE FROM roster WHERE site = ? AND room = ?", (ctx.device.site, body.room))
