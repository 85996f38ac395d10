"""The pad's backend over the device runtime: forms by request, corrections and signed forms
through the outbox, events from the replicated dataset, accounts as every patron screen reads
them."""

from edge_common.errors import EdgeError, OfflineError
from edge_common.protocol import forms as wire
from edge_common.protocol.forms import Correction, Event, Form, Signed
from patron_ui.accounts import CentralAccounts


class CentralPad(CentralAccounts):
    """Central as the signing pad sees it, through one DeviceRuntime; cards and accounts are
    read as every patron screen reads them."""

    def pending_form(self) -> Form | None:
        """The form waiting for this pad (raises OfflineError, RequestTimeout, RemoteError)."""
        if not self.online:
            raise OfflineError("no link to central")
        found: wire.NoForm = self.runtime.request(wire.FORM_PENDING, wire.FormRef())
        form = found.form
        return None if form is not None and self.signed_here(form.form) else form

    def signed_here(self, form: int) -> bool:
        """Whether this pad's outbox still holds the signed form (a restart before central's
        ack: it is on its way, and must not be shown to be signed twice)."""
        return self.runtime.pending(wire.FORM_SIGNED.type, f'"form":{form},') > 0

    def get_form(self, form: int) -> Form:
        """One form at its newest revision."""
        if not self.online:
            raise OfflineError("no link to central")
        got: Form = self.runtime.request(wire.FORM_GET, wire.FormRef(form=form))
        if self.signed_here(got.form):
            raise EdgeError("signed here, on its way to central", code="form_signed_here")
        return got

    def correction(self, correction: Correction) -> None:
        """Queue the correction request durably."""
        self.runtime.emit(wire.FORM_CORRECTION, correction)

    def submit(self, signed: Signed) -> None:
        """Queue the signed form durably; the outbox keeps it until central's ack."""
        self.runtime.emit(wire.FORM_SIGNED, signed)

    def events(self) -> list[Event]:
        """The branch's events from the replicated dataset."""
        rows: list[Event] = self.runtime.rows(wire.EVENTS)
        return rows
