"""Who is inside each room (by card hash, from entries and exits) and the evening sweeps."""

from dataclasses import dataclass

import msgspec

from central.database import Database

_cards = msgspec.json.Decoder(list[str])


@dataclass(frozen=True)
class Inside:
    """A card seen entering a room and not yet leaving it."""

    site: str
    room: str
    card: str
    entered_at: str


@dataclass(frozen=True)
class SweepReport:
    """What a lock reported at a room's evening sweep."""

    site: str
    room: str
    count: int
    inside: list[str]
    at: str


def inside(db: Database, site: str | None = None) -> list[Inside]:
    """Everyone recorded inside (of one branch), by branch, room and time of entry."""
    return [Inside(*row) for row in db.execute(
        "SELECT site, room, card, entered_at FROM roster WHERE ? IS NULL OR site = ?"
        " ORDER BY site, room, entered_at", [site, site])]


def counts(db: Database, site: str) -> list[tuple[str, int]]:
    """How many are recorded inside each room of a branch, by room."""
    return [(room, n) for room, n in db.execute(
        "SELECT room, count(*) FROM roster WHERE site = ? GROUP BY room ORDER BY room",
        [site])]


def sweeps(db: Database, site: str, limit: int = 20) -> list[SweepReport]:
    """A branch's latest sweep reports, newest first."""
    return [SweepReport(s, room, count, _cards.decode(cards), at) for s, room, count, cards, at
            in db.execute("SELECT site, room, count, inside, at FROM sweeps WHERE site = ?"
                          " ORDER BY at DESC LIMIT ?", [site, limit])]
