"""Contactless readers driven by nfcpy (USB front ends such as the ACR122U, or its udp driver).

Wiring: a supported NFC USB dongle (`path = "usb"`, or `usb:BUS:DEV`), or `udp:HOST:PORT`
for nfcpy's simulated link.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from edge_common.readers.base import CardRead, InvalidCardData, OnCard, normalise_uid
from edge_common.readers.config import NfcReaderConfig
from edge_common.readers.reopen import LoopReader

log = logging.getLogger(__name__)
logging.getLogger("nfc").setLevel(logging.WARNING)
TARGETS = ["106A", "106B", "212F"]


class NfcReader(LoopReader[NfcReaderConfig]):
    """Waits for a card, reports its UID once, then waits until it is taken away."""

    def _session(self, stopping: threading.Event, ready: Callable[[], None],
                 on_card: OnCard) -> None:
        import nfc

        try:
            clf = nfc.ContactlessFrontend(self.cfg.path)
        except (OSError, ValueError) as exc:
            raise OSError(f"no NFC front end at {self.cfg.path}: {exc}") from exc
        ready()
        try:
            while not stopping.is_set():
                clf.connect(rdwr={"targets": TARGETS, "beep-on-connect": False,
                                  "on-connect": lambda tag: self._seen(tag, on_card)},
                            terminate=stopping.is_set)
        finally:
            clf.close()

    def _seen(self, tag: Any, on_card: OnCard) -> bool:
        """nfcpy callback: report the UID; True makes nfcpy wait until the card is removed."""
        try:
            on_card(CardRead(normalise_uid(bytes(tag.identifier)), "uid", self.name,
                             time.monotonic()))
        except InvalidCardData as exc:
            log.warning("reader %s: %s", self.name, exc.code)
        return True
