"""What a pickup locker reports to central beyond a door's alarms: its compartments' doors."""

from edge_common.protocol.fields import Name
from edge_common.protocol.spec import Body, event


class CompartmentDoor(Body):
    """`compartment.door`: a compartment's door opened or shut, and whether its occupancy
    sensor saw something inside at that moment."""

    compartment: Name
    open: bool
    occupied: bool


COMPARTMENT_DOOR = event("compartment.door", CompartmentDoor, senders={"locker"})
