"""What pickup lockers report beyond their doors' alarms (`central.access` keeps those): each
compartment's door as it last opened or shut."""

from central.handlers import Context, handler
from edge_common.protocol.lockers import COMPARTMENT_DOOR, CompartmentDoor


@handler(COMPARTMENT_DOOR)
def compartment_door(ctx: Context, body: CompartmentDoor) -> None:
    """Keep the compartment's latest door report (an older one never overwrites a newer)."""
    ctx.db.execute(
        "INSERT INTO compartments VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (dev, compartment) DO UPDATE SET"
        " open = excluded.open, occupied = excluded.occupied, at = excluded.at"
        " WHERE excluded.at >= compartments.at",
        (ctx.device.id, ctx.device.site, body.compartment, int(body.open), int(body.occupied),
         ctx.sent),
    )
