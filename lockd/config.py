"""lockd's declared configuration: the device, its link and its doors."""

from typing import Annotated, Literal

import msgspec

from edge_common.access import Policy
from edge_common.config import (
    DeviceSection,
    GpioBase,
    MqttConfig,
    OutboxConfig,
    Pin,
    Schema,
    Seconds,
)
from edge_common.readers.config import ReaderConfig
from lockd.schedule import Schedule


class GpioSection(GpioBase, frozen=True):
    """The pin factory and the building's fire input."""

    emergency_pin: Pin | None = None


Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class DoorConfig(Schema, frozen=True):
    """One door: relay, inputs, feedback, readers, rules (BCM pin numbers or gpiozero names)."""

    id: Name
    kind: Literal["toilet", "reading_room", "entrance", "hatch"]
    relay_pin: Pin
    reader: ReaderConfig
    relay_active_high: bool = True
    fail_mode: Literal["secure", "safe"] = "secure"
    unlock_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5.0
    held_open_seconds: Seconds = 30.0
    contact_pin: Pin | None = None
    exit_pin: Pin | None = None
    emergency_release: bool = True
    tamper_pin: Pin | None = None
    green_led_pin: Pin | None = None
    red_led_pin: Pin | None = None
    buzzer_pin: Pin | None = None
    room: Name | None = None
    relay_feedback_pin: Pin | None = None
    relay_feedback_ms: Annotated[int, msgspec.Meta(ge=10, le=5000)] = 200
    exit_reader: ReaderConfig | None = None
    policy: Policy = Policy()
    schedule: Schedule = Schedule()


class LockdConfig(Schema, frozen=True):
    """The whole lockd config file."""

    device: DeviceSection
    doors: Annotated[list[DoorConfig], msgspec.Meta(min_length=1)]
    mqtt: MqttConfig = MqttConfig()
    outbox: OutboxConfig = OutboxConfig()
    gpio: GpioSection = GpioSection()
