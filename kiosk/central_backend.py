"""The kiosk's Backend over the device runtime: requests to central, offline loans through the
outbox; accounts and identification as every patron screen reads them (`patron_ui.accounts`)."""

from edge_common.envelope import new_id
from edge_common.errors import EdgeError
from edge_common.printer import Line
from edge_common.protocol import circulation as wire
from edge_common.runtime import DeviceRuntime
from patron_ui.accounts import UNREACHABLE, CentralAccounts
from patron_ui.models import Borrowed, Patron, Renewal


class CentralBackend(CentralAccounts):
    """Central as the kiosk session sees it, through one DeviceRuntime."""

    def __init__(self, runtime: DeviceRuntime, offline_max_items: int = 5) -> None:
        super().__init__(runtime)
        self.offline_max_items = offline_max_items

    def verify_pin(self, patron: Patron, pin: str) -> None:
        """Central checks the PIN; offline nobody can, so the patron is told to come back."""
        try:
            self._ask(wire.PATRON_VERIFY_PIN, wire.Pin(card=patron.ref, pin=pin))
        except UNREACHABLE as exc:
            raise EdgeError("no PIN check offline", code="needs_connection") from exc

    def checkout(self, patron: Patron, barcode: str) -> Borrowed:
        """Lend online; when central is out of reach, queue the loan within the offline limit.

        The queued event reuses the request's id, so a request central did apply is not
        applied a second time when the queue delivers it.
        """
        body = wire.Checkout(card=patron.ref, item=barcode)
        request_id = new_id()
        try:
            done: wire.Lent = self._ask(wire.LOAN_CHECKOUT, body, id=request_id)
        except UNREACHABLE:
            offline = wire.LOAN_CHECKOUT_OFFLINE
            if self.runtime.pending(offline.type, patron.ref) >= self.offline_max_items:
                raise EdgeError("offline limit", code="offline_limit") from None
            self.runtime.emit(offline, body, id=request_id)
            return Borrowed(barcode, barcode, None, queued=True)
        return Borrowed(done.barcode, done.title, done.due, list(done.warnings))

    def renew(self, patron: Patron, loan_ids: list[str]) -> list[Renewal]:
        """Renew chosen loans; renewal needs central."""
        try:
            got: wire.Renewals = self._ask(wire.LOAN_RENEW, wire.Renew(
                card=patron.ref, loans=[int(i) for i in loan_ids]))
        except UNREACHABLE as exc:
            raise EdgeError("renewal needs central", code="needs_connection") from exc
        return [Renewal(str(r.loan), r.title, r.ok, r.due, r.refusal) for r in got.renewals]

    def record_payment(self, patron: Patron, debt_ids: list[str], amount: int,
                       terminal_ref: str) -> None:
        """Queue the approved payment durably; central applies it once, whenever it arrives."""
        self.runtime.emit(wire.PAYMENT_RECORD, wire.Payment(
            card=patron.ref, amount=amount, ref=terminal_ref,
            debts=[int(i) for i in debt_ids] or None))

    def email_receipt(self, patron: Patron, lang: str, subject: str, lines: list[Line]) -> None:
        """Queue the receipt durably; central looks up the address and e-mails it once."""
        self.runtime.emit(wire.RECEIPT_EMAIL, wire.ReceiptEmail(
            card=patron.ref, lang=lang, subject=subject,
            lines=[wire.ReceiptLine(style=line.style, text=line.text) for line in lines]))
