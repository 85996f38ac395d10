"""A question a device must put to central until it is answered: asked again after every
(re)connection, and after every failure with growing waits, so one lost answer is never final."""

import time
from collections.abc import Callable


class UntilAnswered:
    """When to ask: due from the start and after each `again()`; after a failure, due again
    `first`, 2×`first`, 4×`first` … seconds later (at most `cap`); never once answered."""

    def __init__(self, first: float = 2.0, cap: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.first, self.cap, self.clock = first, cap, clock
        self.failures = 0
        self.open = True
        self._due = 0.0

    def due(self) -> bool:
        """Whether to ask now."""
        return self.open and self.clock() >= self._due

    def again(self) -> None:
        """Something may have changed the answer (a reconnection): ask at once."""
        self.open, self.failures, self._due = True, 0, 0.0

    def answered(self) -> None:
        """Central answered: nothing to ask until `again()`."""
        self.open, self.failures = False, 0

    def failed(self) -> float:
        """No answer: ask again later; the wait, in seconds."""
        wait = min(self.cap, self.first * 2 ** self.failures)
        self.failures += 1
        self._due = self.clock() + wait
        return wait
