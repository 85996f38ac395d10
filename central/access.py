"""What locks report: access decisions (the access log), alarms, exits and evening sweeps."""

import msgspec

from central.handlers import Context, handler
from edge_common.protocol import doors as wire


@handler(wire.ACCESS_DECISION)
def access_decision(ctx: Context, body: wire.AccessDecision) -> None:
    """Append the decision to the access log and keep the room's roster."""
    conn = ctx.db.conn
    dev, site = ctx.device.id, ctx.device.site
    conn.execute(
        "INSERT INTO access_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (dev, site, body.door, body.card, body.result, ctx.sent, ctx.seq,
         ctx.received),
    )
    if body.result != "granted":
        return
    room = body.room or body.door
    if body.direction == "in":
        conn.execute(
            "INSERT INTO roster VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
            " entered_at = excluded.entered_at", (site, room, body.card, ctx.sent),
        )
    else:
        conn.execute("DELETE FROM roster WHERE site = ? AND room = ? AND card = ?",
                     (site, room, body.card))


@handler(wire.DOOR_ALARM)
def door_alarm(ctx: Context, body: wire.DoorAlarm) -> None:
    """Record the alarm change; open alarms are what facilities staff see."""
    ctx.db.conn.execute(
        "INSERT INTO door_alarms VALUES (?, ?, ?, ?, ?, ?)",
        (ctx.device.id, ctx.device.site, body.door, body.alarm, int(body.active),
         ctx.sent),
    )


@handler(wire.DOOR_EXIT)
def door_exit(ctx: Context, body: wire.DoorExit) -> None:
    """Count an anonymous exit in the access log."""
    ctx.db.conn.execute(
        "INSERT INTO access_log VALUES (?, ?, ?, '', 'exit_button', ?, ?, ?)",
        (ctx.device.id, ctx.device.site, body.door, ctx.sent, ctx.seq,
         ctx.received),
    )


@handler(wire.PRESENCE_SWEEP)
def presence_sweep(ctx: Context, body: wire.Sweep) -> None:
    """Keep the sweep and start the room's roster afresh."""
    conn = ctx.db.conn
    conn.execute(
        "INSERT INTO sweeps VALUES (?, ?, ?, ?, ?)",
        (ctx.device.site, body.room, body.count, msgspec.json.encode(body.inside),
         ctx.sent),
    )
    conn.execute("DELETE FROM roster WHERE site = ? AND room = ?", (ctx.device.site, body.room))
