"""The site card keys a device hashes with: the newest first and, after a rotation, the one
before it (its cards stay in the lists until central ends the overlap). Kept in the data
folder (0600) once central sent one; until then the config's `card_key`."""

import hashlib
import json
import threading
from pathlib import Path

from edge_common.files import write_private

FILE = "card-keys.json"


def key_id(key: bytes) -> str:
    """A short public name of a key (what the status reports; never the key)."""
    return hashlib.sha256(b"libedge card key " + key).hexdigest()[:12]


class CardKeys:
    """The keys in use, safe to read from any thread."""

    def __init__(self, data_dir: Path, configured: str) -> None:
        self._path = data_dir / FILE
        self._lock = threading.Lock()
        keys = [configured]
        try:
            stored = json.loads(self._path.read_text())
            if configured in stored:   # else the device was enrolled again: the config wins
                keys = stored
        except (OSError, ValueError):
            pass
        self._keys = tuple(bytes.fromhex(k) for k in keys[:2])

    @property
    def keys(self) -> tuple[bytes, ...]:
        """The newest key first, then the previous one if any."""
        return self._keys

    def rotate(self, new: str) -> None:
        """Make `new` (hex) the newest key, keeping the one before it; durable on return."""
        key = bytes.fromhex(new)
        with self._lock:
            if key == self._keys[0]:
                return
            keys = (key, self._keys[0])
            write_private(self._path, json.dumps([k.hex() for k in keys]))
            self._keys = keys
