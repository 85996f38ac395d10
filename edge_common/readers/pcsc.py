"""Contactless card readers on PC/SC (pcscd) through pyscard; the UID is read with `FF CA 00 00 00`.

Wiring: any PC/SC reader (ACS ACR122U/ACR1252, Identiv, HID Omnikey) on USB with pcscd
running; `reader` picks one by a part of its name.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from edge_common.readers.base import CardRead, InvalidCardData, OnCard, normalise_uid
from edge_common.readers.config import PcscReaderConfig
from edge_common.readers.reopen import LoopReader

log = logging.getLogger(__name__)
GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]


class PcscReader(LoopReader[PcscReaderConfig]):
    """Polls one PC/SC reader; a card left on it is reported once until it is taken away."""

    def _find(self) -> Any:
        from smartcard.Exceptions import SmartcardException
        from smartcard.pcsc.PCSCExceptions import BaseSCardException
        from smartcard.System import readers

        try:
            found = [r for r in readers() if self.cfg.reader in str(r)]
        except (SmartcardException, BaseSCardException) as exc:  # pcscd not running: the latter
            raise OSError(f"pcscd: {exc}") from exc
        if not found:
            raise OSError(f"no PC/SC reader matching {self.cfg.reader!r}")
        return found[0]

    def _session(self, stopping: threading.Event, ready: Callable[[], None],
                 on_card: OnCard) -> None:
        from smartcard.Exceptions import CardConnectionException

        reader = self._find()
        name = str(reader)
        ready()
        present = False
        while not stopping.wait(self.cfg.poll_interval):
            try:
                conn = reader.createConnection()
            except CardConnectionException as exc:
                raise OSError(f"pcscd: {exc}") from exc
            try:
                present = self._poll(conn, name, present, on_card)
            finally:
                _release(conn)

    def _poll(self, conn: Any, name: str, present: bool, on_card: OnCard) -> bool:
        """Connect to a card on the reader and read it once; whether a card is present."""
        from smartcard.Exceptions import CardConnectionException, NoCardException

        try:
            conn.connect()
        except NoCardException:
            return False
        except CardConnectionException as exc:
            self._still_there(name, exc)
            return False
        try:
            if not present:
                self._read_uid(conn, on_card)
        except CardConnectionException as exc:
            log.info("reader %s: card left during the read (%s)", self.name, exc)
            return False
        return True

    def _still_there(self, name: str, exc: Exception) -> None:
        """A failed connect: fine if the reader is still listed, otherwise it was unplugged."""
        if str(self._find()) != name:
            raise OSError(f"reader {name} gone: {exc}")

    def _read_uid(self, conn: Any, on_card: OnCard) -> None:
        data, sw1, sw2 = conn.transmit(GET_UID)
        if (sw1, sw2) != (0x90, 0x00):
            log.warning("reader %s: card refused GET UID (%02X %02X)", self.name, sw1, sw2)
            return
        try:
            on_card(CardRead(normalise_uid(bytes(data)), "uid", self.name, time.monotonic()))
        except InvalidCardData as exc:
            log.warning("reader %s: %s (%d bytes)", self.name, exc.code, len(data))


def _release(conn: Any) -> None:
    """Disconnect and release the connection's PC/SC context now, not in pyscard's __del__
    (which raises, unseen, when pcscd has gone away meanwhile)."""
    from smartcard.Exceptions import CardConnectionException

    try:
        conn.release()
    except CardConnectionException:
        conn.hcontext = None  # pcscd is gone and the context with it: nothing left to free
