"""What the signing pad needs from central, as a small protocol its flow depends on."""

from typing import Protocol

from edge_common.protocol.forms import Correction, Event, Form, Signed
from kiosk.models import Account, Patron


class PadBackend(Protocol):
    """Central as the pad sees it; failures raise EdgeError with a stable code."""

    @property
    def online(self) -> bool:
        """Whether central is reachable now."""

    def pending_form(self) -> Form | None:
        """The form waiting for this pad, if any."""

    def get_form(self, form: int) -> Form:
        """One form of this pad, at its newest revision."""

    def correction(self, correction: Correction) -> None:
        """Tell the desk a field is wrong (durably queued)."""

    def submit(self, signed: Signed) -> None:
        """Hand the signed form to the outbox; central archives it once."""

    def events(self) -> list[Event]:
        """The branch's events as replicated (any order, past ones too)."""

    def message(self, lang: str) -> str:
        """The branch's message of the day in `lang`, or ""."""

    def identify(self, card: str, kind: str) -> Patron:
        """The patron holding a card."""

    def account(self, patron: Patron) -> Account:
        """Loans, holds and debts."""
