"""Serial line readers (barcode scanners, keyboard-wedge-style UID readers) through pyserial.

Wiring: the scanner's USB-serial or RS-232 adapter (`/dev/ttyUSB0`, `/dev/ttyACM0`); most
send one code per line ending in CR, LF or CRLF.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator

from edge_common.readers.base import CardRead, InvalidCardData, OnCard, normalise_uid
from edge_common.readers.config import SerialReaderConfig
from edge_common.readers.reopen import LoopReader

log = logging.getLogger(__name__)


class LineFramer:
    """Bytes in, complete lines out: CR, LF and CRLF all end a line; over-long lines dropped."""

    def __init__(self, max_line: int = 64) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Yield every line completed by `data` (without its terminator, never empty)."""
        for byte in data:
            if byte in (0x0A, 0x0D):
                if self._buf and not self._discarding:
                    yield bytes(self._buf)
                self._buf.clear()
                self._discarding = False
            elif not self._discarding:
                self._buf.append(byte)
                if len(self._buf) > self.max_line:
                    log.warning("serial line over %d bytes dropped", self.max_line)
                    self._buf.clear()
                    self._discarding = True


def parse_line(line: bytes, kind: str, reader: str) -> CardRead:
    """A line as a card read: a UID (hex, normalised) or a barcode (printable text)."""
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise InvalidCardData("line is not ASCII") from exc
    if kind == "uid":
        return CardRead(normalise_uid(text), "uid", reader, time.monotonic())
    if not text or not text.isprintable():
        raise InvalidCardData("empty or unprintable barcode")
    return CardRead(text, "barcode", reader, time.monotonic())


class SerialLineReader(LoopReader[SerialReaderConfig]):
    """Reads lines from a serial port; a port that disappears is reopened by itself."""

    def _session(self, stopping: threading.Event, ready: Callable[[], None],
                 on_card: OnCard) -> None:
        import serial

        try:
            port = serial.serial_for_url(self.cfg.url, baudrate=self.cfg.baudrate, timeout=0.2)
        except (serial.SerialException, ValueError) as exc:
            raise OSError(str(exc)) from exc
        framer = LineFramer(self.cfg.max_line)
        ready()
        try:
            while not stopping.is_set():
                try:
                    data = port.read(port.in_waiting or 1)
                except (serial.SerialException, TypeError) as exc:
                    raise OSError(str(exc)) from exc
                for line in framer.feed(data):
                    try:
                        on_card(parse_line(line, self.cfg.kind_of_data, self.name))
                    except InvalidCardData as exc:
                        log.warning("reader %s: ignored a line (%s, %d bytes)", self.name,
                                    exc.code, len(line))
        finally:
            port.close()
