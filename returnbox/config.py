"""The return box's declared configuration: device, link, readers, pins, bins and their rules."""

from typing import Annotated, Literal

import msgspec

from edge_common.access import Policy
from edge_common.catalogues import LANGUAGES
from edge_common.config import DeviceSection, GpioBase, MqttConfig, OutboxConfig, Pin, Schema
from edge_common.printer import PrinterConfig
from edge_common.protocol.returns import Route
from edge_common.readers.config import ReaderConfig

Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Seconds = Annotated[float, msgspec.Meta(gt=0, le=3600)]


class RfidReaderConfig(Schema, tag="rfid", tag_field="kind", frozen=True):
    """An RFID reader of library item tags owned by `isil` (returnbox.tags); `source = "sim"`
    is the simulated tag field (a driver for a real ISO 15693 reader plugs in as a source)."""

    isil: Annotated[str, msgspec.Meta(min_length=2, max_length=16)]
    source: Literal["sim"] = "sim"
    name: str = "rfid"


# The item reader: a serial barcode scanner, the simulator, or an RFID item-tag reader.
ItemReaderConfig = ReaderConfig | RfidReaderConfig


class BoxSection(Schema, frozen=True):
    """How the box behaves: timings, the flap, alarms, languages."""

    library: str = "Library"
    branch_name: str = ""
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")] = "EUR"   # of late fees
    languages: Annotated[tuple[str, ...], msgspec.Meta(min_length=1)] = (
        "sl", "en", "cs", "hu", "zh")
    travel_time: Seconds = 2.0        # entry to a bin on a healthy belt
    jam_timeout: Seconds = 8.0        # no arrival within this after diverting: a jam
    read_timeout: Seconds = 3.0       # the eye saw an item the reader could not read
    checkin_timeout: Seconds = 1.5    # central's answer to loan.checkin; later: offline
    visit_timeout: Seconds = 60.0     # a visit ends this long after its last item
    start_grace: Seconds = 5.0        # at start, unfinished items wait this long for central
    keep_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 90   # finished items in the ledger
    offline_alarm_minutes: Annotated[float, msgspec.Meta(gt=0, le=10_080)] = 30.0
    flap_requires_card: bool = False  # seed 000: the return machine opens for allowed cards
    flap_open_seconds: Seconds = 20.0
    flap_policy: Policy = Policy()    # who may open the flap (lockd's rules, replicated list)

    def __post_init__(self) -> None:
        unknown = [lang for lang in self.languages if lang not in LANGUAGES]
        if unknown:
            raise ValueError(f"unknown language {unknown[0]!r}; choose from {sorted(LANGUAGES)}")
        if self.jam_timeout <= self.travel_time:
            raise ValueError("jam_timeout must be longer than travel_time")


class GpioSection(GpioBase, frozen=True, kw_only=True):
    """The chute and belt pins (BCM numbers or gpiozero names); bins have their own."""

    motor_pin: Pin                     # conveyor motor relay
    entry_pin: Pin | None = None       # photo-eye at the chute entry, to GND when broken
    flap_lock_pin: Pin | None = None   # chute flap lock relay (energised: open)
    estop_pin: Pin | None = None       # emergency stop, contact to GND while pressed
    active_high: bool = True           # relay boards are often active-low


class BinConfig(Schema, frozen=True):
    """One bin: its diverter, arrival sensor, optional full sensor and how many items fit."""

    name: Name
    diverter_pin: Pin
    arrival_pin: Pin
    full_pin: Pin | None = None
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 200


class BinRule(Schema, frozen=True):
    """Items matching every given condition go to `bin` (an empty list matches anything)."""

    bin: Name
    routes: list[Route] = []
    categories: list[str] = []
    call_from: str = ""                # call-number range, inclusive, case-insensitive
    call_to: str = ""
    homes: list[str] = []              # item home branches
    warnings: list[str] = []           # any of these (e.g. "attachments")


class SortingSection(Schema, frozen=True):
    """Ordered rules (first match wins), the bin for no match or a full bin, and the bin for
    items the box cannot route offline."""

    fallback: Name
    sort_later: Name
    rules: list[BinRule] = []


class DisplaySection(Schema, frozen=True):
    """The patron screen: "kivy" on the shared patron theme, or "none" (views are logged)."""

    kind: Literal["none", "kivy"] = "none"
    width: Annotated[int, msgspec.Meta(ge=320, le=16_384)] = 800
    height: Annotated[int, msgspec.Meta(ge=240, le=16_384)] = 480
    fullscreen: bool = True
    chute_at: Literal["down", "left", "right"] = "down"    # seen from the screen
    reader_at: Literal["down", "left", "right"] = "right"


class SimulatorSection(Schema, frozen=True):
    """Run the simulated belt on the pins (needs `pin_factory = "mock"`): demo and tests."""

    belt: bool = False
    travel_time: Annotated[float, msgspec.Meta(ge=0, le=60)] = 0.5
    chute: str | None = None   # a Unix datagram socket: each datagram is an item put in unread


class ReturnboxConfig(Schema, frozen=True):
    """The whole return box config file."""

    device: DeviceSection
    item_reader: ItemReaderConfig
    gpio: GpioSection
    bins: Annotated[list[BinConfig], msgspec.Meta(min_length=1)]
    sorting: SortingSection
    card_reader: ReaderConfig | None = None
    box: BoxSection = BoxSection()
    printer: PrinterConfig = PrinterConfig()
    display: DisplaySection = DisplaySection()
    simulator: SimulatorSection = SimulatorSection()
    mqtt: MqttConfig = MqttConfig()
    outbox: OutboxConfig = OutboxConfig()

    def __post_init__(self) -> None:
        names = [b.name for b in self.bins]
        if len(set(names)) != len(names):
            raise ValueError("bin names must be unique")
        used = {r.bin for r in self.sorting.rules} | {self.sorting.fallback,
                                                      self.sorting.sort_later}
        missing = sorted(used - set(names))
        if missing:
            raise ValueError(f"no bin named {missing[0]!r}")
        if self.simulator.belt and self.gpio.pin_factory != "mock":
            raise ValueError("the simulated belt needs gpio.pin_factory = \"mock\"")
