"""The pickup locker's declared configuration: the device, its link and its compartments."""

from typing import Annotated

import msgspec

from edge_common.config import (
    DeviceSection,
    GpioBase,
    MqttConfig,
    OutboxConfig,
    Pin,
    Schema,
    Seconds,
)
from edge_common.protocol.fields import Name


class GpioSection(GpioBase, frozen=True):
    """The pin factory and the relay board's polarity."""

    relay_active_high: bool = True   # many relay boards are active-low


class CompartmentConfig(Schema, frozen=True):
    """One compartment: its lock relay, door contact and occupancy sensor, and its timing."""

    id: Name
    relay_pin: Pin
    contact_pin: Pin
    occupancy_pin: Pin
    unlock_seconds: Annotated[float, msgspec.Meta(gt=0, le=10)] = 1.0   # the relay's pulse
    held_open_seconds: Seconds = 60.0


class LockerConfig(Schema, frozen=True):
    """The whole locker config file."""

    device: DeviceSection
    compartments: Annotated[list[CompartmentConfig], msgspec.Meta(min_length=1, max_length=200)]
    mqtt: MqttConfig = MqttConfig()
    outbox: OutboxConfig = OutboxConfig()
    gpio: GpioSection = GpioSection()

    def __post_init__(self) -> None:
        ids = [c.id for c in self.compartments]
        if len(set(ids)) != len(ids):
            raise ValueError("compartment ids must be unique")
        pins = [str(p) for c in self.compartments
                for p in (c.relay_pin, c.contact_pin, c.occupancy_pin)]
        if len(set(pins)) != len(pins):
            raise ValueError("each relay, contact and sensor needs a pin of its own")
