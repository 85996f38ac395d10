"""What doors report to central: access decisions, alarms, exits and the evening sweep."""

from typing import Annotated, Literal

import msgspec

from edge_common.protocol.fields import CardHash, Code, Count, Name
from edge_common.protocol.spec import Body, event


class AccessDecision(Body):
    """`access.decision`: a door's verdict on a presented card (hash only)."""

    door: Name
    card: CardHash
    result: Code
    room: Name | None = None
    direction: Literal["in", "out"] = "in"


class DoorAlarm(Body):
    """`door.alarm`: an alarm raised or cleared at a door (a locker's: at a compartment)."""

    door: Name
    alarm: Code
    active: bool


class DoorExit(Body):
    """`door.exit`: someone left through the exit button."""

    door: Name
    room: Name


class Sweep(Body):
    """`presence.sweep`: who may still be inside a room at the end of the evening."""

    room: Name
    count: Count
    inside: Annotated[list[CardHash], msgspec.Meta(max_length=10_000)]


ACCESS_DECISION = event("access.decision", AccessDecision, senders={"lockd"})
DOOR_ALARM = event("door.alarm", DoorAlarm, senders={"lockd", "locker"})
DOOR_EXIT = event("door.exit", DoorExit, senders={"lockd"})
PRESENCE_SWEEP = event("presence.sweep", Sweep, senders={"lockd"})
