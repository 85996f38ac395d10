"""The kiosk's Backend over the device runtime: requests to central, offline loans through the
outbox, identification from the replicated allow-list when central is out of reach."""

from datetime import date
from typing import TypeVar, cast

from edge_common.envelope import new_id
from edge_common.errors import EdgeError, OfflineError, RequestTimeout
from edge_common.protocol import Answer, Body, Message
from edge_common.protocol import circulation as wire
from edge_common.protocol.datasets import ANY_LANGUAGE, MESSAGES, AllowEntry
from edge_common.readers import normalise_uid
from edge_common.runtime import DeviceRuntime
from kiosk.models import (
    Account,
    Borrowed,
    Debt,
    Hold,
    HoldState,
    Loan,
    OwedElsewhere,
    Patron,
    Renewal,
)
from kiosk.receipt import Line

B = TypeVar("B", bound=Body)
A = TypeVar("A", bound=Answer)
UNREACHABLE = (OfflineError, RequestTimeout)
MAY_NOT_USE = ("patron_blocked", "registration_incomplete")


class CentralBackend:
    """Central as the kiosk session sees it, through one DeviceRuntime."""

    def __init__(self, runtime: DeviceRuntime, offline_max_items: int = 5) -> None:
        self.runtime = runtime
        self.offline_max_items = offline_max_items

    @property
    def online(self) -> bool:
        """Whether a central worker answers now."""
        return self.runtime.central_up

    def message(self, lang: str) -> str:
        """The branch's message of the day from the replicated `messages` list ("" if none)."""
        row = self.runtime.row(MESSAGES, lang) or self.runtime.row(MESSAGES, ANY_LANGUAGE)
        return row.text if row else ""

    def _ask(self, message: Message[B, A], body: B, id: str | None = None) -> A:
        if not self.online:
            raise OfflineError("no link to central")
        return self.runtime.request(message, body, id=id)

    def identify(self, card: str, kind: str) -> Patron:
        """Who holds the card: from central, or from the door/kiosk list when offline."""
        # the hash the list knows it by: under the newest key or, while a rotation overlaps,
        # the previous one (central resolves both)
        ref, entry = self.runtime.listed(normalise_uid(card) if kind == "uid" else card)
        try:
            found: wire.Identified = self._ask(wire.PATRON_IDENTIFY, wire.Card(card=ref))
        except UNREACHABLE:
            return self._identify_offline(ref, entry)
        if found.refusal in MAY_NOT_USE:
            raise EdgeError("the patron may not use the kiosk", code=found.refusal)
        return Patron(ref, found.name, found.category, found.language, found.needs_pin,
                      found.staff, email_on_file=found.email_on_file)

    def _identify_offline(self, ref: str, entry: AllowEntry | None) -> Patron:
        if entry is None:
            raise EdgeError("unknown card", code="card_unknown")
        if entry.blocked:
            raise EdgeError("blocked", code="patron_blocked")
        if entry.expired_on(date.today()):
            raise EdgeError("expired", code="membership_expired")
        return Patron(ref, "", entry.category, staff=entry.staff)

    def verify_pin(self, patron: Patron, pin: str) -> None:
        """Central checks the PIN; offline nobody can, so the patron is told to come back."""
        try:
            self._ask(wire.PATRON_VERIFY_PIN, wire.Pin(card=patron.ref, pin=pin))
        except UNREACHABLE as exc:
            raise EdgeError("no PIN check offline", code="needs_connection") from exc

    def account(self, patron: Patron) -> Account:
        """Loans, holds and this branch's debts."""
        got: wire.Summary = self._ask(wire.ACCOUNT_SUMMARY, wire.Card(card=patron.ref))
        return Account(
            loans=[Loan(str(x.id), x.title, x.barcode, x.due, x.renewable, x.refusal)
                   for x in got.loans],
            # central sends only these states (central.circulation.summary); the account
            # screen would show any other as on the way
            holds=[Hold(str(h.id), h.title, cast(HoldState, h.state), h.branch, h.pickup_by,
                        h.position) for h in got.holds],
            debts=[Debt(str(d.id), d.kind, d.amount, d.note) for d in got.debts],
            credit=got.credit, currency=got.currency,
            elsewhere=[OwedElsewhere(o.name, o.amount) for o in got.elsewhere])

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
