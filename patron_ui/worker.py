"""The one thread that runs a patron screen's steps in order (they may wait on central), then
redraws."""

import logging
import queue
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
Step = Callable[[], None]


class SessionWorker:
    """Runs steps from any thread one at a time, and `tick` every `every` seconds between them.

    A failing step is logged, never shown; `after_each` (the redraw) follows every step.
    """

    def __init__(self, tick: Step = lambda: None, every: float = 0.5) -> None:
        self.tick = tick
        self.every = every
        self.after_each: Step = lambda: None
        self._steps: queue.SimpleQueue[Step | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="patron-session", daemon=True)

    def start(self) -> None:
        """Start serving steps."""
        self._thread.start()

    def act(self, step: Step) -> None:
        """Queue a step (from a touch, a reader or the clock)."""
        self._steps.put(step)

    def stop(self) -> None:
        """Finish the queued steps and stop."""
        self._steps.put(None)
        if self._thread.is_alive():
            self._thread.join(10)

    def _serve(self) -> None:
        next_tick = time.monotonic() + self.every
        while True:
            try:
                step = self._steps.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                step, next_tick = self.tick, time.monotonic() + self.every
            if step is None:
                return
            try:
                step()
            except Exception:  # noqa: BLE001 - the patron must never see a traceback
                log.exception("patron screen step failed")
            self.after_each()

