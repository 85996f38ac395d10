"""What reaches the box's coordinator from its parts: pins, readers, the screen and the
restart, each a typed event."""

from dataclasses import dataclass

from edge_common.readers import CardRead
from returnbox.views import Action


@dataclass(frozen=True)
class Resume:
    """The box started: carry on with what a restart left unfinished."""


@dataclass(frozen=True)
class ItemRead:
    """The item reader read a barcode or a tag."""

    read: CardRead


@dataclass(frozen=True)
class CardTap:
    """A card on the box's card reader."""

    read: CardRead


@dataclass(frozen=True)
class Eye:
    """The entry eye was broken (an item entered the chute) or cleared."""

    broken: bool


@dataclass(frozen=True)
class Arrived:
    """A bin's arrival eye saw an item."""

    bin: str


@dataclass(frozen=True)
class BinSensor:
    """A bin's full sensor changed."""

    bin: str
    full: bool


@dataclass(frozen=True)
class EStop:
    """The emergency stop was pressed or released."""

    pressed: bool


@dataclass(frozen=True)
class ScreenAction:
    """A touch on the patron's or staff screen."""

    action: Action


@dataclass(frozen=True)
class ReaderChanged:
    """A reader was lost or is back (`state` as the reader reports it)."""

    name: str
    state: str


@dataclass(frozen=True)
class TagRefused:
    """An RFID tag the box does not take (`tag_not_ours`, `tag_*`)."""

    code: str
