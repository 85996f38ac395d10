"""The RFID item reader seam: raw tag memory from a `TagSource`, decoded into item reads.

A `RfidItemReader` is a `CardReader` (edge_common.readers.base) whose reads are of kind
"barcode" and carry the tag's item id, so the box handles a tagged item as a scanned one. A
tag of another library (its owner ISIL is not the configured one) or an unreadable tag is not
a read: it goes to `on_refused` with its code (`tag_not_ours`, or the tag's `tag_*` error),
and the box hands the item back. A source that fails is reported "lost" and reopened. Every
callback runs on the reader's thread and must only hand the work over (to the coordinator).

Wiring: a real source wraps the reader's driver (an ISO 15693 desktop reader reading the
tag's user memory on arrival); `SimTagSource` takes memory from the tests and `make demo`.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Protocol

from edge_common.readers.base import CardRead, OnCard, OnState
from edge_common.readers.reopen import ReopenLoop
from returnbox.tags import ItemTag, TagError, decode

log = logging.getLogger(__name__)
OnRefused = Callable[[str, ItemTag | None], None]


class TagSource(Protocol):
    """Where tag memory comes from: one `read` per tag entering the field."""

    def open(self) -> None:
        """Open the device; raises OSError when it is not there."""

    def read(self, timeout: float) -> bytes | None:
        """The user memory of the next tag to arrive, or None after `timeout` seconds;
        raises OSError when the device is lost."""

    def close(self) -> None:
        """Release the device; idempotent."""


class SimTagSource:
    """A simulated tag field: `put` a tag's memory (e.g. `tags.encode(...)`) and it is read;
    `unplug`/`plug` make the device fail and come back."""

    def __init__(self) -> None:
        self._tags: queue.Queue[bytes] = queue.Queue()
        self._present = threading.Event()
        self._present.set()

    def put(self, memory: bytes) -> None:
        """A tag enters the field."""
        self._tags.put(memory)

    def unplug(self) -> None:
        """The reader is gone: reads and opens fail until `plug`."""
        self._present.clear()

    def plug(self) -> None:
        """The reader is back."""
        self._present.set()

    def open(self) -> None:
        """Fail while unplugged."""
        if not self._present.is_set():
            raise OSError("simulated RFID reader unplugged")

    def read(self, timeout: float) -> bytes | None:
        """The next tag put, or None."""
        self.open()
        try:
            return self._tags.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        """Nothing to release."""


class RfidItemReader:
    """Item reads from library RFID tags of one library (`isil`), on its own thread (edge_common's
    ReopenLoop: a lost source is reported and reopened with backoff)."""

    def __init__(self, name: str, source: TagSource, isil: str,
                 on_refused: OnRefused = lambda code, tag: None) -> None:
        self.name = name
        self.isil = isil
        self._source = source
        self._on_refused = on_refused
        self._loop: ReopenLoop | None = None

    def start(self, on_card: OnCard, on_state: OnState) -> None:
        """Read tags on a daemon thread until `stop`."""

        def session(stopping: threading.Event, ready: Callable[[], None]) -> None:
            self._source.open()
            try:
                ready()
                while not stopping.is_set():
                    memory = self._source.read(0.2)
                    read = None if memory is None else self.take(memory)
                    if read is not None:
                        on_card(read)
            finally:
                self._source.close()

        self._loop = ReopenLoop(self.name, session, on_state)
        self._loop.start()

    def stop(self) -> None:
        """Stop reading and release the source; idempotent."""
        if self._loop:
            self._loop.stop()
            self._loop = None

    def take(self, memory: bytes) -> CardRead | None:
        """One tag's memory as an item read, or None (reported to `on_refused`)."""
        try:
            tag = decode(memory)
        except TagError as exc:
            log.warning("reader %s: unreadable tag (%s, %d bytes)", self.name, exc.code,
                        len(memory))
            self._on_refused(exc.code, None)
            return None
        if not tag.owned_by(self.isil):
            log.info("reader %s: a tag of %s, not ours", self.name, tag.isil or "nobody")
            self._on_refused("tag_not_ours", tag)
            return None
        return CardRead(uid=tag.item_id, kind="barcode", reader=self.name, at=time.time())
