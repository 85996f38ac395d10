"""The signing pad's declared configuration: the device, its link, its card reader, its screen."""

from typing import Annotated, Literal

import msgspec

from edge_common.catalogues import LANGUAGES
from edge_common.config import DeviceSection, MqttConfig, OutboxConfig, Schema
from edge_common.readers.config import ReaderConfig

Seconds = Annotated[float, msgspec.Meta(gt=0, le=3600)]


class PadSection(Schema, frozen=True):
    """What the pad talks to, its language, timings and window."""

    backend: Literal["central", "simulated"] = "central"
    library: str = "Library"
    language: str = "sl"  # the idle screen's; a form shows in the patron's own
    warning_after: Seconds = 20.0  # seconds without a touch before the account's countdown
    account_for: Seconds = 30.0  # ... and before the account closes
    thanks_for: Seconds = 10.0
    events_shown: Annotated[int, msgspec.Meta(ge=1, le=20)] = 6
    fullscreen: bool = True
    width: Annotated[int, msgspec.Meta(ge=320, le=16_384)] = 1280
    height: Annotated[int, msgspec.Meta(ge=240, le=16_384)] = 800

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"unknown language {self.language!r}; "
                             f"choose from {sorted(LANGUAGES)}")
        if self.warning_after >= self.account_for:
            raise ValueError("warning_after must be shorter than account_for")


class SignpadConfig(Schema, frozen=True):
    """The whole signing-pad config file."""

    device: DeviceSection
    card_reader: ReaderConfig
    pad: PadSection = PadSection()
    mqtt: MqttConfig = MqttConfig()
    outbox: OutboxConfig = OutboxConfig()
