"""lockd's declared configuration: the device, its link and its doors."""

from typing import Annotated, Literal

import msgspec
from edge_common.readers.config import ReaderConfig

from edge_common.config import DeviceSection, MqttConfig, OutboxConfig, Schema
from lockd.decision import Policy
from lockd.schedule import Schedule

Pin = int | str


class GpioSection(Schema):
    """Which gpiozero pin factory drives the pins ("" lets gpiozero choose, lgpio on a Pi)."""

    pin_factory: Literal["", "mock", "lgpio", "rpigpio", "pigpio", "native"] = ""


class DoorConfig(Schema):
    """One door: its relay and its reader."""

    id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    kind: Literal["toilet", "reading_room", "entrance", "hatch"]
    relay_pin: Pin
    relay_active_high: bool = True
    unlock_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5.0
    reader: ReaderConfig
    policy: Policy = Policy()
    schedule: Schedule = Schedule()


class LockdConfig(Schema):
    """The whole lockd config file."""

    device: DeviceSection
    doors: Annotated[list[DoorConfig], msgspec.Meta(min_length=1)]
    mqtt: MqttConfig = MqttConfig()
    outbox: OutboxConfig = OutboxConfig()
    gpio: GpioSection = GpioSection()
