"""The kiosk's declared configuration: the device, its link, its readers, printer and terminal."""

from typing import Annotated, Literal

import msgspec

from edge_common.catalogues import LANGUAGES
from edge_common.config import DeviceSection, MqttConfig, OutboxConfig, Schema
from edge_common.printer import PrinterConfig
from edge_common.readers.config import ReaderConfig
from kiosk.sounds import SounderConfig

Seconds = Annotated[float, msgspec.Meta(gt=0, le=3600)]


class KioskSection(Schema, frozen=True):
    """What the kiosk talks to and how long a patron's session may stay idle."""

    backend: Literal["central", "simulated"] = "central"
    library: str = "Library"
    branch_name: str = ""
    languages: Annotated[tuple[str, ...], msgspec.Meta(min_length=1)] = (
        "sl", "en", "cs", "hu", "zh")
    warning_after: Seconds = 45.0
    logout_after: Seconds = 60.0
    goodbye_for: Seconds = 5.0
    pin_attempts: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3
    offline_max_items: Annotated[int, msgspec.Meta(ge=0, le=50)] = 5
    reader_at: Literal["down", "left", "right"] = "down"  # the card reader, seen from the screen
    fullscreen: bool = True
    width: Annotated[int, msgspec.Meta(ge=320, le=16_384)] = 1280
    height: Annotated[int, msgspec.Meta(ge=240, le=16_384)] = 800

    def __post_init__(self) -> None:
        unknown = [lang for lang in self.languages if lang not in LANGUAGES]
        if unknown:
            raise ValueError(f"unknown language {unknown[0]!r}; choose from {sorted(LANGUAGES)}")
        if self.warning_after >= self.logout_after:
            raise ValueError("warning_after must be shorter than logout_after")


class PaymentConfig(Schema, frozen=True):
    """The card-payment terminal ("none" hides paying at the kiosk)."""

    kind: Literal["none", "simulated"] = "none"
    delay: Annotated[float, msgspec.Meta(ge=0, le=120)] = 2.0


class KioskConfig(Schema, frozen=True):
    """The whole kiosk config file."""

    device: DeviceSection
    card_reader: ReaderConfig
    kiosk: KioskSection = KioskSection()
    scanner: ReaderConfig | None = None
    printer: PrinterConfig = PrinterConfig()
    payment: PaymentConfig = PaymentConfig()
    sound: SounderConfig = SounderConfig()
    mqtt: MqttConfig = MqttConfig()
    outbox: OutboxConfig = OutboxConfig()
