"""What a device knows of a card: its keyed hash under the site's keys and the allow-list entry
under whichever key the list holds it (DESIGN §5: raw UIDs never travel or stay)."""

from collections.abc import Callable

from edge_common.card_keys import CardKeys
from edge_common.cardid import card_hash
from edge_common.protocol.datasets import AllowEntry


class Cards:
    """Hashes with the newest key and, while a rotation overlaps, the previous one."""

    def __init__(self, keys: CardKeys, entry: Callable[[str], AllowEntry | None]) -> None:
        self.keys = keys
        self._entry = entry

    def listed(self, uid: str) -> tuple[str, AllowEntry | None]:
        """A card's hash and allow-list entry, under the site's newest key or, while a rotation
        overlaps, the previous one (the hash under the newest key when neither lists it)."""
        first: tuple[str, AllowEntry | None] | None = None
        for key in self.keys.keys:
            hashed = card_hash(key, uid)
            found = (hashed, self._entry(hashed))
            if found[1] is not None:
                return found
            first = first or found
        assert first is not None   # there is always a key
        return first
