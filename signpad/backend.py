"""What the signing pad needs from central, as a small protocol its flow depends on."""

from typing import Protocol

from edge_common.protocol.forms import Correction, Event, Form, Signed
from patron_ui.accounts import Accounts


class PadBackend(Accounts, Protocol):
    """Central as the pad sees it; failures raise EdgeError with a stable code."""

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
