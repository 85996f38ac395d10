"""A signing pad's backend without central: the sample accounts, a sample form the desk
can fix, sample events; for screenshots, UI work and demos."""

from datetime import datetime, time, timedelta

import msgspec

from edge_common.errors import EdgeError
from edge_common.protocol.forms import Correction, Event, Form, FormField, Signed
from patron_ui.sample import SampleAccounts

TERMS = ("1. Membership is personal and the card may not be lent to others.\n"
         "2. Items are borrowed for 21 days and may be renewed twice unless another member "
         "has reserved them.\n"
         "3. Late returns are charged as set out in the price list.\n"
         "4. Lost or damaged items are replaced or paid for.\n"
         "5. The library keeps the member's data for as long as the membership lasts and "
         "erases it when the membership ends, as described in its privacy notice.\n") * 4


def sample_form(lang: str = "en", revision: int = 1, name: str = "Ana Novak") -> Form:
    """A minor's registration form with both signers, its labels in English."""
    return Form(
        form=1001, revision=revision, kind="registration", lang=lang,
        fields=[FormField(key="name", label="Name", value=name),
                FormField(key="born", label="Date of birth", value="2013-05-17"),
                FormField(key="address", label="Address", value="Trubarjeva cesta 12, Ljubljana"),
                FormField(key="email", label="E-mail", value="ana.novak@example.org"),
                FormField(key="category", label="Membership", value="Child")],
        terms_version="2026-1", terms=TERMS, signers=["patron", "guardian"], staff="desk-1")


class SimulatedPad(SampleAccounts):
    """The sample library with one form waiting and a few events."""

    def __init__(self) -> None:
        super().__init__()
        self.form: Form | None = sample_form()
        self.corrections: list[Correction] = []
        self.signed: list[Signed] = []
        today = datetime.now().astimezone().date()

        def at(days: int, hour: int) -> datetime:
            """An event `days` from today at `hour` o'clock, local time."""
            return datetime.combine(today + timedelta(days=days), time(hour)).astimezone()

        self.sample_events = [
            Event(title="Story time for children", starts=at(1, 17), place="Children's corner"),
            Event(title="Meet the author: Drago Jančar", starts=at(3, 19), place="Great hall"),
            Event(title="Computer basics for seniors", starts=at(5, 10), place="Reading room"),
            Event(title="Knitting club", starts=at(8, 18), place="Café"),
        ]

    def pending_form(self) -> Form | None:
        """The sample form, if the desk has started it."""
        if not self.online:
            raise EdgeError("offline", code="offline")
        return self.form

    def get_form(self, form: int) -> Form:
        """The sample form's newest revision."""
        if self.form is None or self.form.form != form:
            raise EdgeError("no such form", code="form_unknown")
        return self.form

    def fix(self, key: str, value: str) -> None:
        """The desk corrects a field: a new revision."""
        if self.form is not None:
            fields = [msgspec.structs.replace(f, value=value) if f.key == key else f
                      for f in self.form.fields]
            self.form = msgspec.structs.replace(self.form, fields=fields,
                                                revision=self.form.revision + 1)

    def correction(self, correction: Correction) -> None:
        """Remember the correction request."""
        self.corrections.append(correction)

    def submit(self, signed: Signed) -> None:
        """Remember the signed form."""
        self.signed.append(signed)
        self.form = None

    def events(self) -> list[Event]:
        """The sample events."""
        return self.sample_events
