"""The one thread that runs a patron screen's steps in order (they may wait on central), then
redraws: the device's Coordinator, whose one kind of event is a step."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from edge_common.coordinator import Coordinator

Step = Callable[[], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Act:
    """A touch, a reader's read or a terminal's answer: a step for the session's thread."""

    step: Step


class SessionWorker:
    """Runs steps from any thread one at a time, and `tick` every `every` seconds between them.

    A failing step is logged, never shown; `after_each` (the redraw) follows every step and tick.
    """

    def __init__(self, tick: Step = lambda: None, every: float = 0.5) -> None:
        self.tick = tick
        self.every = every
        self.after_each: Step = lambda: None
        self._due = time.monotonic() + every
        self.coordinator = Coordinator("patron-session", {Act: lambda act: self._run(act.step)},
                                       tick=self._tick, wait=lambda: self._due - time.monotonic())

    def start(self) -> None:
        """Start serving steps."""
        self._due = time.monotonic() + self.every
        self.coordinator.start()

    def act(self, step: Step) -> None:
        """Queue a step (from a touch, a reader or the clock)."""
        self.coordinator.post(Act(step))

    def call(self, fn: Callable[[], T], timeout: float = 5.0) -> T:
        """Run `fn` on the session's thread after the steps queued before it and return its
        result (no redraw follows: for reading the state a step left)."""
        return self.coordinator.call(fn, timeout)

    def stop(self) -> None:
        """Finish the queued steps and stop."""
        self.coordinator.stop(10)

    def _tick(self) -> None:
        if time.monotonic() >= self._due:
            self._due = time.monotonic() + self.every
            self._run(self.tick)

    def _run(self, step: Step) -> None:
        try:
            step()   # a failure is logged by the coordinator, with the step's traceback
        finally:
            self.after_each()
