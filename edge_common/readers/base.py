"""The card-reader seam: what a read is, and the small protocol every reader implements."""

import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from edge_common.errors import EdgeError

MAX_UID_BYTES = 10


class InvalidCardData(EdgeError, ValueError):
    """A reader delivered something that is not a card UID or barcode."""

    code = "card_data_invalid"


@dataclass(frozen=True)
class CardRead:
    """One card presented to a reader; `reply`, when set, tells whoever presented it the outcome
    (only the simulated reader has someone to answer: `libedge tap`)."""

    uid: str
    kind: Literal["uid", "barcode"]
    reader: str
    at: float
    reply: Callable[[str], None] | None = field(default=None, compare=False, repr=False)


OnCard = Callable[[CardRead], None]
OnState = Callable[[str, str | None], None]


class CardReader(Protocol):
    """A reader on its own thread; it reopens a lost device by itself."""

    name: str

    def start(self, on_card: OnCard, on_state: OnState) -> None:
        """Start reading; callbacks must only hand work over."""

    def stop(self) -> None:
        """Stop reading and release the device; idempotent."""


def normalise_uid(raw: bytes | str) -> str:
    """A UID as uppercase hex without separators, or InvalidCardData."""
    if isinstance(raw, bytes):
        text = raw.hex()
    else:
        text = "".join(ch for ch in raw.strip() if ch not in ":- ")
    if not text or len(text) % 2 or len(text) > 2 * MAX_UID_BYTES or any(
            ch not in string.hexdigits for ch in text):
        raise InvalidCardData(f"not a card UID ({len(text)} characters)")
    return text.upper()
