"""Card-payment terminals behind a small protocol, with a simulator for the demo and tests."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from patron_ui.worker import SessionWorker

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

    def __init__(self, delay: float = 1.0) -> None:
        self.delay = delay
        self.next_outcome: Outcome = "approved"
        self._timer: threading.Timer | None = None
        self._count = 0
        self._lock = threading.Lock()
        self._report: Callable[[PaymentResult], None] | None = None

    def start(self, amount: int, currency: str, on_done: Callable[[PaymentResult], None]) -> None:
        """Simulate the patron tapping a bank card."""
        self._count += 1
        ref = f"SIM{self._count:06d}"
        outcome = self.next_outcome

        self._amount = amount
        with self._lock:
            self._report = on_done
        self._timer = threading.Timer(self.delay, lambda: self._finish(
            PaymentResult(outcome, amount, ref if outcome == "approved" else "")))
        self._timer.daemon = True
        self._timer.start()

    def _finish(self, result: PaymentResult) -> None:
        """Report a payment's result once: the first of the answer and a cancel wins."""
        with self._lock:
            report, self._report = self._report, None
        if report is not None:
            report(result)

    def cancel(self) -> None:
        """Stop the pending simulated payment and report it cancelled (unless it answered)."""
        if self._timer:
            self._timer.cancel()
        self._finish(PaymentResult("cancelled", self._amount))


class TerminalOnWorker:
    """A payment terminal whose result reaches the session as a step on `worker`, like a card read.

    Wiring: the daemon hands the session this instead of the terminal itself; the terminal still
    reports on its own thread, which now only queues the step.
    """

    def __init__(self, device: PaymentTerminal, worker: SessionWorker) -> None:
        self.device = device
        self.worker = worker

    def start(self, amount: int, currency: str, on_done: Callable[[PaymentResult], None]) -> None:
        """Start a payment on the terminal; its result is applied on the session thread."""
        self.device.start(amount, currency,
                          lambda result: self.worker.act(lambda: on_done(result)))

    def cancel(self) -> None:
        """Abort the payment in progress (its cancelled result also arrives as a step)."""
        self.device.cancel()
