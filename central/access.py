"""What locks report: access decisions (the access log), alarms, exits and evening sweeps."""

import msgspec

from central import access_counts, alarms
from central.handlers import Context, before_commit, handler
from edge_common.protocol import doors as wire


@handler(wire.ACCESS_DECISION)
def access_decision(ctx: Context, body: wire.AccessDecision) -> None:
    """Append the decision to the access log and keep the room's roster."""
    conn = ctx.db
    site, room = ctx.device.site, body.room or body.door
    access_counts.log(ctx.db, ctx.device.id, site, body.door, room, body.direction, body.card,
                      body.result, ctx.sent, ctx.seq, ctx.received)
    if body.result != access_counts.GRANTED:
        return
    if body.direction == "in":
        conn.execute(
            "INSERT INTO roster VALUES (?, ?, ?, ?) ON CONFLICT (site, room, card) DO UPDATE SET"
            " entered_at = excluded.entered_at", (site, room, body.card, ctx.sent),
        )
    else:
        entered = conn.execute("DELETE FROM roster WHERE site = ? AND room = ? AND card = ?"
                               " RETURNING entered_at", (site, room, body.card)).fetchone()
        if entered:
            access_counts.stay(ctx.db, site, room, entered[0], ctx.sent)


@handler(wire.DOOR_ALARM)
def door_alarm(ctx: Context, body: wire.DoorAlarm) -> None:
    """Record the alarm change; open alarms are what facilities staff see."""
    alarms.record(ctx, body.door, body.alarm, body.active)


@handler(wire.DOOR_EXIT)
def door_exit(ctx: Context, body: wire.DoorExit) -> None:
    """Count an anonymous exit in the access log."""
    access_counts.log(ctx.db, ctx.device.id, ctx.device.site, body.door, body.room, "out", "",
                      access_counts.EXIT_BUTTON, ctx.sent, ctx.seq, ctx.received)


@handler(wire.PRESENCE_SWEEP)
def presence_sweep(ctx: Context, body: wire.Sweep) -> None:
    """Keep the sweep and start the room's roster afresh."""
    conn = ctx.db
    conn.execute(
        "INSERT INTO sweeps VALUES (?, ?, ?, ?, ?)",
        (ctx.device.site, body.room, body.count, msgspec.json.encode(body.inside),
         ctx.sent),
    )
    conn.execute("DELETE FROM roster WHERE site = ? AND room = ?", (ctx.device.site, body.room))


before_commit(access_counts.settle)
