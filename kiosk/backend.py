"""What the kiosk needs from central, as a small protocol the session depends on."""

from typing import Protocol

from kiosk.models import Account, Borrowed, Patron, Renewal
from kiosk.receipt import Line


class Backend(Protocol):
    """Central as the kiosk sees it; failures raise EdgeError with a stable code."""

    @property
    def online(self) -> bool:
        """Whether central is reachable now."""

    def identify(self, card: str, kind: str) -> Patron:
        """The patron holding a card (UID or library-card barcode)."""

    def verify_pin(self, patron: Patron, pin: str) -> None:
        """Check the patron's kiosk PIN; raise with code `pin_wrong` or `pin_locked`."""

    def account(self, patron: Patron) -> Account:
        """Loans, holds and debts."""

    def checkout(self, patron: Patron, barcode: str) -> Borrowed:
        """Lend an item; offline, queue it within the offline limits (Borrowed.queued)."""

    def renew(self, patron: Patron, loan_ids: list[str]) -> list[Renewal]:
        """Renew the chosen loans; each gets its own outcome."""

    def record_payment(self, patron: Patron, debt_ids: list[str], amount: int,
                       terminal_ref: str) -> None:
        """Record an approved card payment exactly once (durably queued first)."""

    def message(self, lang: str) -> str:
        """The library's message of the day for this kiosk's branch in `lang`, or ""."""

    def email_receipt(self, patron: Patron, lang: str, subject: str, lines: list[Line]) -> None:
        """Queue the receipt for central to e-mail to the patron's address on file (durable)."""
