"""The simulated reader: a Unix datagram socket that `libedge tap` sends card UIDs to."""

import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from edge_common.readers.base import CardRead, InvalidCardData, OnCard, OnState, normalise_uid
from edge_common.readers.config import SimReaderConfig
from edge_common.unix_path import reachable

log = logging.getLogger(__name__)
MAX_DATAGRAM = 256


class SimReader:
    """Each datagram is one tap: a hex UID (read as a UID) or other text (a barcode)."""

    def __init__(self, cfg: SimReaderConfig) -> None:
        self.name = cfg.name
        self.path = cfg.socket
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, on_card: OnCard, on_state: OnState) -> None:
        """Bind the socket and read taps on a daemon thread."""
        if os.path.exists(self.path):
            os.unlink(self.path)
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        self._sock = sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        with reachable(self.path) as path:
            sock.bind(path)
        sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, args=(sock, on_card),
                                        name=f"reader-{self.name}", daemon=True)
        self._thread.start()
        on_state("ok", None)

    def _run(self, sock: socket.socket, on_card: OnCard) -> None:
        while not self._stop.is_set():
            try:
                data, sender = sock.recvfrom(MAX_DATAGRAM + 1)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                read = parse_tap(data, self.name)
                on_card(replace(read, reply=self._answer(sock, sender)) if sender else read)
            except InvalidCardData as exc:
                log.warning("reader %s: ignored a tap (%s, %d bytes)", self.name, exc.code,
                            len(data))

    def _answer(self, sock: socket.socket, sender: str) -> Callable[[str], None]:
        """A reply that sends the outcome back to the tap's own socket, never blocking, never
        failing: the tapper may have given up and gone."""

        def reply(outcome: str) -> None:
            try:
                sock.sendto(outcome.encode("utf-8"), socket.MSG_DONTWAIT, sender)
            except OSError as exc:
                log.debug("reader %s: answer not delivered (%s)", self.name, exc)
        return reply

    def stop(self) -> None:
        """Close the socket and remove its file."""
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        if self._sock:
            self._sock.close()
            self._sock = None
        if os.path.exists(self.path):
            os.unlink(self.path)


def parse_tap(data: bytes, reader: str) -> CardRead:
    """A datagram as a card read: hex means a UID, other printable text a barcode."""
    if len(data) > MAX_DATAGRAM:
        raise InvalidCardData("tap too long")
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise InvalidCardData("tap is not UTF-8") from exc
    try:
        return CardRead(normalise_uid(text), "uid", reader, time.monotonic())
    except InvalidCardData:
        if not text or not text.isprintable() or len(text) > 64:
            raise
        return CardRead(text, "barcode", reader, time.monotonic())


def send_sim_tap(socket_path: str, card: str, answer_within: float = 0.0) -> str | None:
    """Present a card to a simulated reader; with `answer_within` > 0, wait that many seconds
    for the device's answer (e.g. a door's decision) and return it, or None without one."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        if answer_within <= 0:
            with reachable(socket_path) as path:
                s.sendto(card.encode("utf-8"), path)
            return None
        with tempfile.TemporaryDirectory(prefix="libedge-tap-") as folder:
            s.bind(os.path.join(folder, "tap.sock"))  # so the reader has somewhere to answer
            with reachable(socket_path) as path:
                s.sendto(card.encode("utf-8"), path)
            s.settimeout(answer_within)
            try:
                return s.recv(MAX_DATAGRAM).decode("utf-8", "replace").strip()
            except TimeoutError:
                return None
