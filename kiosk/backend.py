"""What the kiosk needs from central, as a small protocol the session depends on."""

from typing import Protocol

from edge_common.printer import Line
from patron_ui.accounts import Accounts
from patron_ui.models import Borrowed, Patron, Renewal


class Backend(Accounts, Protocol):
    """Central as the kiosk sees it; failures raise EdgeError with a stable code."""

    def verify_pin(self, patron: Patron, pin: str) -> None:
        """Check the patron's kiosk PIN; raise with code `pin_wrong` or `pin_locked`."""

    def checkout(self, patron: Patron, barcode: str) -> Borrowed:
        """Lend an item; offline, queue it within the offline limits (Borrowed.queued)."""

    def renew(self, patron: Patron, loan_ids: list[str]) -> list[Renewal]:
        """Renew the chosen loans; each gets its own outcome."""

    def record_payment(self, patron: Patron, debt_ids: list[str], amount: int,
                       terminal_ref: str) -> None:
        """Record an approved card payment exactly once (durably queued first)."""

    def email_receipt(self, patron: Patron, lang: str, subject: str, lines: list[Line]) -> None:
        """Queue the receipt for central to e-mail to the patron's address on file (durable)."""
