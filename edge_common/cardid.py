"""Card identity: what travels and is cached is a keyed hash of the card, never the UID itself."""

import hashlib
import hmac


def card_hash(key: bytes, card: str) -> str:
    """HMAC-SHA256(site key, normalised UID or barcode) as hex (DESIGN §5)."""
    return hmac.new(key, card.encode(), hashlib.sha256).hexdigest()
