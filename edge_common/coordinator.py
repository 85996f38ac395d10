"""One thread that makes a device's decisions: events posted from any thread (hardware
callbacks, readers, the screen, central's commands) are handled in order, one at a time, with
a tick between them and whenever the device's own deadline comes."""

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Stop:
    """Posted by `stop`: the thread ends after what was posted before it."""


class _Call:
    """Posted by `call`: run a function on the coordinator and hand back its outcome."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.done: Future[Any] = Future()

    def run(self) -> None:
        if not self.done.set_running_or_notify_cancel():
            return   # the caller gave up before it started: it is never carried out late
        try:
            self.done.set_result(self.fn())
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            self.done.set_exception(exc)


class _Later:
    """Posted by `soon`: run a function on the coordinator; nobody waits for it."""

    def __init__(self, fn: Callable[[], object]) -> None:
        self.fn = fn


class Coordinator:
    """Runs `handlers[type(event)](event)` for each posted event and, once the queue is empty,
    `tick()`; waits at most `wait()` seconds for the next event. An exception in a handler or
    a tick is logged and costs only that step."""

    def __init__(self, name: str, handlers: Mapping[type, Callable[[Any], object]],
                 tick: Callable[[], None] = lambda: None,
                 wait: Callable[[], float] = lambda: 0.5) -> None:
        self._handlers = dict(handlers)
        self._tick = tick
        self._wait = wait
        self._events: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def post(self, event: object) -> None:
        """Hand an event to the coordinator (any thread)."""
        self._events.put(event)

    def soon(self, fn: Callable[[], object]) -> None:
        """Run `fn` on the coordinator without waiting for it (its failure is logged)."""
        self.post(_Later(fn))

    def call(self, fn: Callable[[], T], timeout: float = 5.0) -> T:
        """Run `fn` on the coordinator and return its result (or raise its exception). Not
        started within `timeout`: it never runs, and this raises CancelledError; started:
        this waits for its outcome."""
        call = _Call(fn)
        self.post(call)
        try:
            return call.done.result(timeout)
        except TimeoutError:
            call.done.cancel()
            return call.done.result()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the events posted so far (safe if never started)."""
        self.post(_Stop())
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_pending(self) -> None:
        """Handle what is queued now on the calling thread, as the thread would (for a
        coordinator that was not started: a test or a tool drives it step by step)."""
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            if not isinstance(event, _Stop):
                self._step(self._handle, event)

    @property
    def alive(self) -> bool:
        """Whether the thread runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            try:
                event: object | None = self._events.get(timeout=max(0.0, self._wait()))
            except queue.Empty:
                event = None
            while event is not None:   # everything posted meanwhile, then one tick
                if isinstance(event, _Stop):
                    return
                self._step(self._handle, event)
                try:
                    event = self._events.get_nowait()
                except queue.Empty:
                    event = None
            self._step(lambda _: self._tick(), "tick")

    def _handle(self, event: object) -> None:
        if isinstance(event, _Call):
            event.run()
        elif isinstance(event, _Later):
            event.fn()
        else:
            self._handlers[type(event)](event)

    def _step(self, fn: Callable[[Any], None], event: object) -> None:
        try:
            fn(event)
        except Exception:  # noqa: BLE001 - one bad event must not stop the device
            log.exception("%s: handling %s failed", self._thread.name, type(event).__name__)
