"""The part of a patron screen's immutable View that the shared chrome (theme.kv) draws."""

from dataclasses import dataclass
from typing import Any

Rows = tuple[dict[str, Any], ...]  # a list the screen shows, one dict of texts per row


@dataclass(frozen=True)
class ChromeView:
    """The texts in the patron's language, the notice at its level, the offline banner and the
    countdown; a device's View adds what its own screens show."""

    lang: str
    texts: dict[str, str]
    notice: str
    level: str  # the notice's: info, warning or error
    countdown: int  # seconds left before the session ends, or -1
    countdown_total: float
    offline: bool
