"""A patron's account as every patron screen reads it from central: who holds a card (from the
replicated allow-list when central is out of reach), the account summary, the branch's message
of the day."""

from datetime import date
from typing import Protocol, TypeVar, cast

from edge_common.errors import EdgeError, OfflineError, RequestTimeout
from edge_common.protocol import Answer, Body, Message
from edge_common.protocol import circulation as wire
from edge_common.protocol.datasets import ANY_LANGUAGE, MESSAGES, AllowEntry
from edge_common.readers import normalise_uid
from edge_common.runtime import DeviceRuntime
from patron_ui.models import Account, Debt, Hold, HoldState, Loan, OwedElsewhere, Patron

B = TypeVar("B", bound=Body)
A = TypeVar("A", bound=Answer)
UNREACHABLE = (OfflineError, RequestTimeout)
MAY_NOT_USE = ("patron_blocked", "registration_incomplete")


class Accounts(Protocol):
    """Central as a patron screen reads accounts; failures raise EdgeError with a stable code."""

    @property
    def online(self) -> bool:
        """Whether central is reachable now."""

    def identify(self, card: str, kind: str) -> Patron:
        """The patron holding a card (UID or library-card barcode)."""

    def account(self, patron: Patron) -> Account:
        """Loans, holds and debts."""

    def message(self, lang: str) -> str:
        """The library's message of the day for this device's branch in `lang`, or ""."""


class CentralAccounts:
    """Accounts through one DeviceRuntime."""

    def __init__(self, runtime: DeviceRuntime) -> None:
        self.runtime = runtime

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
