"""The loop every hardware reader runs: open, read until the device fails, reopen with backoff."""

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Generic, TypeVar

from edge_common.readers.base import OnCard, OnState
from edge_common.readers.config import NfcReaderConfig, PcscReaderConfig, SerialReaderConfig

log = logging.getLogger(__name__)
C = TypeVar("C", bound=SerialReaderConfig | PcscReaderConfig | NfcReaderConfig)


class ReopenLoop:
    """Runs `session()` on a daemon thread; when it raises OSError, reports `lost` and retries.

    `session` opens the device, reports nothing itself, and reads until `stopping` is set or
    the device fails. Backoff: 0.5 s doubling to 5 s, reset after every successful open.
    """

    def __init__(self, name: str, session: Callable[[threading.Event, Callable[[], None]], None],
                 on_state: OnState, first: float = 0.5, cap: float = 5.0) -> None:
        self.name = name
        self.stopping = threading.Event()
        self._session = session
        self._on_state = on_state
        self._first, self._cap = first, cap
        self._thread = threading.Thread(target=self._run, name=f"reader-{name}", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Ask the session to end and wait for the thread."""
        self.stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        delay, lost = self._first, None
        while not self.stopping.is_set():
            opened = threading.Event()

            def ready(opened: threading.Event = opened) -> None:
                opened.set()
                log.info("reader %s ready", self.name)
                self._on_state("ok", None)

            try:
                self._session(self.stopping, ready)
                if self.stopping.is_set():
                    return
                detail = "device closed"
            except OSError as exc:
                detail = f"{type(exc).__name__}: {exc}"
            if opened.is_set():
                delay = self._first
            if opened.is_set() or lost is None:
                log.warning("reader %s lost: %s", self.name, detail)
                self._on_state("lost", detail)
            lost = detail
            self.stopping.wait(delay)
            delay = min(self._cap, delay * 2)


class LoopReader(ABC, Generic[C]):
    """A hardware reader whose `_session` a ReopenLoop runs on a daemon thread.

    Subclasses open their device in `_session`, call `ready()` once it is open, and read
    until `stopping` is set; raising OSError means the device was lost.
    """

    def __init__(self, cfg: C) -> None:
        self.cfg = cfg
        self.name: str = cfg.name
        self._loop: ReopenLoop | None = None

    def start(self, on_card: OnCard, on_state: OnState) -> None:
        """Open the device on a daemon thread and keep it open until stopped."""
        self._loop = ReopenLoop(self.name, lambda stop, ready: self._session(stop, ready, on_card),
                                on_state)
        self._loop.start()

    def stop(self) -> None:
        """Stop reading and release the device; idempotent."""
        if self._loop:
            self._loop.stop()

    @abstractmethod
    def _session(self, stopping: threading.Event, ready: Callable[[], None],
                 on_card: OnCard) -> None:
        """Open the device, call `ready()`, read until `stopping` is set or the device fails."""
