"""Card-payment terminals behind a small protocol, with a simulator for the demo and tests."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

Outcome = Literal["approved", "declined", "cancelled", "terminal_error"]


@dataclass(frozen=True)
class PaymentResult:
    """What the terminal said; `reference` identifies an approved transaction."""

    outcome: Outcome
    amount: int
    reference: str = ""


class PaymentTerminal(Protocol):
    """A terminal that takes an amount and reports the result later, on its own thread."""

    def start(self, amount: int, currency: str, on_done: Callable[[PaymentResult], None]) -> None:
        """Ask the patron to pay `amount` minor units."""

    def cancel(self) -> None:
        """Abort a payment in progress (the result then says cancelled)."""


class SimulatedTerminal:
    """A terminal that answers after `delay` seconds with the outcome set by `next_outcome`."""

    def __init__(self, delay: float = 1.0):
        self.delay = delay
        self.next_outcome: Outcome = "approved"
        self._timer: threading.Timer | None = None
        self._count = 0

    def start(self, amount: int, currency: str, on_done: Callable[[PaymentResult], None]) -> None:
        """Simulate the patron tapping a bank card."""
        self._count += 1
        ref = f"SIM{self._count:06d}"
        outcome = self.next_outcome

        def finish():
            on_done(PaymentResult(outcome, amount, ref if outcome == "approved" else ""))

        self._timer = threading.Timer(self.delay, finish)
        self._timer.daemon = True
        self._timer.start()
        self._on_done, self._amount = on_done, amount

    def cancel(self) -> None:
        """Stop the pending simulated payment and report it cancelled."""
        if self._timer and self._timer.is_alive():
            self._timer.cancel()
            self._on_done(PaymentResult("cancelled", self._amount))
