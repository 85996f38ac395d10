"""The pad's state and its steps: idle with events, a patron's account after a card tap, and the
form from check to signature. The open form lives only here, in memory; steps run one at a time
on one worker thread."""

import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from edge_common.errors import EdgeError
from edge_common.forms_hash import form_hash
from edge_common.protocol.forms import Correction, Event, Form, Signature, Signed, Signer, Stroke
from edge_common.retry import UntilAnswered
from patron_ui.models import Account, Patron
from signpad.backend import PadBackend
from signpad.pdf import render_apart

log = logging.getLogger(__name__)
TOTAL_POINTS = 10_000  # what one signature may hold, so the form's PDF stays under 300 kB


class Screen(StrEnum):
    """Every screen of the pad."""

    IDLE = "idle"
    ACCOUNT = "account"
    FORM = "form"
    CORRECTING = "correcting"
    TERMS = "terms"
    SIGN = "sign"
    THANKS = "thanks"


FORM_SCREENS = {Screen.FORM, Screen.CORRECTING, Screen.TERMS, Screen.SIGN}
GONE = {"form_closed", "form_unknown"}  # central's answer for a form cancelled or erased


@dataclass(frozen=True)
class Settings:
    """Timings and the pad's own language."""

    lang: str = "sl"
    warning_after: float = 20.0  # seconds without a touch before the account's countdown shows
    account_for: float = 30.0  # seconds without a touch before the account closes
    thanks_for: float = 10.0
    recheck_every: float = 3.0  # while the desk corrects: how often to ask for a new revision
    events_shown: int = 6


def upcoming(events: list[Event], lang: str, now: datetime, limit: int) -> list[Event]:
    """The next events in `lang` (or in every language), soonest first."""
    found = [e for e in events if e.starts >= now and e.lang in (None, lang)]
    return sorted(found, key=lambda e: e.starts)[:limit]


class Pad:
    """The pad's coordinator state; every method runs on the worker thread."""

    def __init__(self, backend: PadBackend, pad_id: str, settings: Settings = Settings(),
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.backend = backend
        self.pad_id = pad_id
        self.settings = settings
        self.clock = clock
        self.now = now
        self.screen = Screen.IDLE
        self.lang = settings.lang
        self.form: Form | None = None
        self.reported: set[str] = set()
        self.signatures: list[Signature] = []
        self.patron: Patron | None = None
        self.account: Account | None = None
        self.notice: str | None = None
        self.queued = False
        self._touched = self._since = self._checked = clock()
        self._was_online = False
        self.pending = UntilAnswered(first=settings.recheck_every, clock=clock)

    # --- what the screens read -----------------------------------------------------------

    @property
    def signer(self) -> Signer | None:
        """Who signs next, or None outside the signature screen."""
        form, done = self.form, len(self.signatures)
        if form is None or self.screen != Screen.SIGN or done >= len(form.signers):
            return None
        return form.signers[done]

    @property
    def warning_left(self) -> int | None:
        """Seconds until the account closes, once the warning shows; else None."""
        if self.screen != Screen.ACCOUNT:
            return None
        idle = self.clock() - self._touched
        if idle < self.settings.warning_after:
            return None
        return max(0, round(self.settings.account_for - idle))

    def events(self) -> list[Event]:
        """The upcoming events the idle screen lists."""
        return upcoming(self.backend.events(), self.lang, self.now(), self.settings.events_shown)

    # --- steps ---------------------------------------------------------------------------

    def touch(self) -> None:
        """A touch anywhere: the account stays open."""
        self._touched = self.clock()

    def fetch(self, form_id: int | None = None) -> None:
        """Ask central for a form (named, or the one waiting) and show it when it is new."""
        self._fetch(form_id)

    def _fetch(self, form_id: int | None = None) -> bool:
        """`fetch`; whether central answered."""
        try:
            form = self.backend.get_form(form_id) if form_id else self.backend.pending_form()
        except EdgeError as exc:
            log.warning("form %s not fetched: %s", form_id or "pending", exc.code)
            if exc.code not in GONE:
                return False
            if self.form is not None and self.form.form == form_id:
                self._drop()
            return True   # central said the form is gone: an answer
        if form is not None:
            self.show(form)
        return True

    def show(self, form: Form) -> None:
        """Show a form from the start, unless this revision of it is already open."""
        if self.form is not None and form.form == self.form.form and (
                form.revision <= self.form.revision):
            return
        if not form.signers:  # nobody could sign it: a form central should never send
            log.warning("form %s has no signers (form_invalid): not shown", form.form)
            return
        log.info("form %s revision %d shown", form.form, form.revision)
        self.form, self.reported, self.signatures = form, set(), []
        self.patron = self.account = None
        self.lang, self.notice, self.screen = form.lang, None, Screen.FORM

    def wrong(self, field: str) -> None:
        """The patron says `field` is wrong: tell the desk and wait for their fix."""
        if self.form is None or self.screen not in (Screen.FORM, Screen.CORRECTING):
            return
        if field not in self.reported:
            self.backend.correction(Correction(form=self.form.form,
                                               revision=self.form.revision, field=field))
            self.reported.add(field)
        self.screen, self._checked = Screen.CORRECTING, self.clock()

    def back_to_form(self) -> None:
        """From the waiting screen back to the fields, to report another one."""
        if self.screen == Screen.CORRECTING:
            self.screen = Screen.FORM

    def data_ok(self) -> None:
        """The patron confirms the data: on to the terms."""
        if self.screen == Screen.FORM and not self.reported:
            self.screen = Screen.TERMS

    def terms_read(self) -> None:
        """The patron has read the terms: on to the signature."""
        if self.screen == Screen.TERMS:
            self.notice, self.screen = None, Screen.SIGN

    def sign(self, strokes: list[Stroke], width: int, height: int) -> None:
        """The current signer confirms their signature; after the last, the form is sealed."""
        signer = self.signer
        if signer is None or self.form is None:
            return
        if not any(strokes):
            self.notice = "sign_first"
            return
        if sum(map(len, strokes)) > TOTAL_POINTS:
            self.notice = "signature_too_long"
            return
        self.notice = None
        self.signatures.append(Signature(signer=signer, width=max(1, width),
                                         height=max(1, height), strokes=strokes))
        if len(self.signatures) == len(self.form.signers):
            try:
                self._submit(self.form)
            except EdgeError as exc:  # the PDF could not be made: everyone signs again
                log.error("form %s not sealed: %s", self.form.form, exc)
                self.signatures, self.notice = [], "internal_error"

    def _submit(self, form: Form) -> None:
        """Make the PDF and hash, hand them to the outbox, and forget the form."""
        signed_at = self.now()
        pdf = render_apart(form, self.signatures, signed_at, self.pad_id)
        self.backend.submit(Signed(
            form=form.form, revision=form.revision, signed_at=signed_at,
            pdf=base64.b64encode(pdf).decode("ascii"), signatures=self.signatures,
            sha256=form_hash(pdf, self.signatures)))
        log.info("form %s revision %d signed", form.form, form.revision)
        self.queued = not self.backend.online
        self.form, self.signatures, self.reported = None, [], set()
        self.screen, self._since = Screen.THANKS, self.clock()

    def card(self, uid: str, kind: str = "uid") -> None:
        """A card tap: the patron's account, read-only (not while a form is open)."""
        if self.screen in FORM_SCREENS:
            self.notice = "form_busy"
            return
        self.notice = None
        if not self.backend.online:
            self.notice = "offline"
            return
        try:
            patron = self.backend.identify(uid, kind)
            if patron.needs_pin:
                raise EdgeError("account behind a PIN", code="pin_protected")
            account = self.backend.account(patron)
        except EdgeError as exc:
            self.notice = exc.code
            return
        self.patron, self.account = patron, account
        self.lang = patron.language or self.settings.lang
        self.screen = Screen.ACCOUNT
        self.touch()

    def done(self) -> None:
        """Close the account (or the thank-you) and go back to the events."""
        if self.screen in (Screen.ACCOUNT, Screen.THANKS):
            self._idle()

    def _drop(self) -> None:
        """The desk cancelled the form shown (or the member was archived or erased): nothing of
        it stays on the screen or in memory."""
        self.form, self.signatures, self.reported = None, [], set()
        self._idle()

    def _idle(self) -> None:
        self.patron = self.account = None
        self.lang, self.queued, self.notice, self.screen = (
            self.settings.lang, False, None, Screen.IDLE)

    def tick(self) -> None:
        """Timeouts, the desk's fix while the patron waits, and after every (re)connection,
        until central answers, a form waiting or the form shown checked again (cancelled while
        the pad was away)."""
        now = self.clock()
        online = self.backend.online
        if online and not self._was_online:
            self.pending.again()
        self._was_online = online
        if online and self.pending.due():
            if self._fetch(self.form.form if self.form else None):
                self.pending.answered()
            else:
                log.info("asking for the form again in %.0f s", self.pending.failed())
        if self.screen == Screen.ACCOUNT and now - self._touched >= self.settings.account_for:
            self._idle()
        elif self.screen == Screen.THANKS and now - self._since >= self.settings.thanks_for:
            self._idle()
        elif self.screen == Screen.CORRECTING and self.form is not None and online and (
                now - self._checked >= self.settings.recheck_every):
            self._checked = now
            self.fetch(self.form.form)
