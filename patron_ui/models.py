"""What the kiosk shows about a patron: loans, holds, debts; no more personal data than needed."""

from datetime import date
from typing import Literal

import msgspec


class Patron(msgspec.Struct, frozen=True):
    """The identified patron for this session: an opaque reference, never a card UID."""

    ref: str
    display_name: str
    category: str
    language: str | None = None
    needs_pin: bool = False
    staff: bool = False
    email_on_file: bool = False


class Loan(msgspec.Struct, frozen=True):
    """An item the patron has, with whether it can be renewed and why not."""

    id: str
    title: str
    barcode: str
    due: date
    renewable: bool
    refusal: str | None = None


HoldState = Literal["ready", "waiting", "in_transit"]


class Hold(msgspec.Struct, frozen=True):
    """A hold: ready for pickup (until a date), waiting (at a position) or in transit."""

    id: str
    title: str
    state: HoldState
    branch: str = ""
    pickup_by: date | None = None
    position: int | None = None


class Debt(msgspec.Struct, frozen=True):
    """Money owed, in minor units, by kind."""

    id: str
    kind: str
    amount: int
    description: str = ""


class OwedElsewhere(msgspec.Struct, frozen=True):
    """Money owed at another branch, paid there: shown, never in what is paid here."""

    branch: str
    amount: int


class Account(msgspec.Struct, frozen=True):
    """The patron's account summary."""

    loans: list[Loan] = []
    holds: list[Hold] = []
    debts: list[Debt] = []
    credit: int = 0
    currency: str = "EUR"
    elsewhere: list[OwedElsewhere] = []

    def holds_in(self, state: str) -> list[Hold]:
        """Holds in one state."""
        return [h for h in self.holds if h.state == state]

    @property
    def owed(self) -> int:
        """Total of all debts less credit, never negative."""
        return max(0, sum(d.amount for d in self.debts) - self.credit)


class Borrowed(msgspec.Struct, frozen=True):
    """An item checked out in this session; `queued` when recorded offline."""

    barcode: str
    title: str
    due: date | None
    warnings: list[str] = []
    queued: bool = False


class Renewal(msgspec.Struct, frozen=True):
    """The outcome of renewing one loan."""

    loan_id: str
    title: str
    ok: bool
    due: date | None = None
    refusal: str | None = None
