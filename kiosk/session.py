"""The kiosk's state machine: one patron at a time, driven by touches, cards, scans and a clock.

Pure Python (no Kivy): the UI renders `Session` fields and calls its methods from one thread.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, TypeVar

from edge_common.errors import EdgeError
from edge_common.printer import Line
from kiosk.backend import Backend
from kiosk.i18n import Translator
from kiosk.payment import PaymentResult, PaymentTerminal
from kiosk.receipt import Paid, compose
from patron_ui.cues import Cue, Silent, Sounder
from patron_ui.models import Account, Borrowed, Patron, Renewal
from patron_ui.texts import texts

log = logging.getLogger(__name__)
T = TypeVar("T")


class Screen(StrEnum):
    """Every screen the kiosk can show."""

    IDLE = "idle"
    PIN = "pin"
    ACCOUNT = "account"
    CHECKOUT = "checkout"
    RENEW = "renew"
    PAY = "pay"
    PAYING = "paying"
    RECEIPT = "receipt"
    GOODBYE = "goodbye"
    MAINTENANCE = "maintenance"


CONFIRM_WITHIN = 5.0  # seconds for the second tap that confirms a restart
PATRON_SCREENS = {Screen.ACCOUNT, Screen.CHECKOUT, Screen.RENEW, Screen.PAY}
CUES: dict[str, Cue] = {"info": "ok", "warning": "warning", "error": "error"}


@dataclass(frozen=True)
class Notice:
    """A message for the patron: a stable code translated by the UI, with parameters."""

    code: str
    level: str = "info"
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """Timing and limits of a kiosk session, and the names at the top of its receipts."""

    warning_after: float = 45.0
    logout_after: float = 60.0
    goodbye_for: float = 5.0
    pin_attempts: int = 3
    can_pay: bool = True
    can_print: bool = True
    languages: tuple[str, ...] = ("sl", "en", "cs", "hu", "zh")
    library: str = ""
    branch: str = ""
    reader_at: str = "down"  # where the card reader is, seen from the screen: down, left, right


class Session:
    """Who is at the kiosk, what they did, and what the screen shows."""

    def __init__(self, backend: Backend, terminal: PaymentTerminal,
                 print_receipt: Callable[["Session"], None],
                 settings: Settings = Settings(), clock: Callable[[], float] = time.monotonic,
                 *, on_restart: Callable[[], None] | None = None,
                 sounder: Sounder | None = None) -> None:
        self.backend = backend
        self.terminal = terminal
        self.print_receipt = print_receipt
        self.settings = settings
        self.clock = clock
        self.on_restart = on_restart
        self.sounder = sounder or Silent()
        self.lang = settings.languages[0]
        self._reset()

    @property
    def message(self) -> str:
        """The library's message of the day in the patron's language ("" when there is none)."""
        return self.backend.message(self.lang)

    @property
    def notice(self) -> Notice | None:
        """The message shown to the patron now."""
        return self._notice

    @notice.setter
    def notice(self, notice: Notice | None) -> None:
        self._notice = notice
        if notice is not None:
            self._cue(CUES.get(notice.level, "warning"),
                      Translator(self.lang).notice(notice.code, **notice.params))

    def _reset(self) -> None:
        self.screen = Screen.IDLE
        self.patron: Patron | None = None
        self.account: Account | None = None
        self.borrowed: list[Borrowed] = []
        self.renewals: list[Renewal] = []
        self.paid: list[Paid] = []
        self.notice: Notice | None = None
        self.pin_failures = 0
        self._restart_armed: float | None = None
        self.paying: list[str] = []
        self._last_touch = self.clock()
        self._goodbye_at: float | None = None
        self._warned = False

    # --- inputs -----------------------------------------------------------------------

    def touch(self) -> None:
        """Any touch: the patron is still here."""
        self._last_touch = self.clock()

    def set_language(self, lang: str) -> None:
        """Switch the UI language (idle screen or any time)."""
        if lang in self.settings.languages:
            self.lang = lang
        self.touch()

    def card(self, card: str, kind: str = "uid") -> None:
        """A card was tapped or a library-card barcode scanned."""
        self.touch()
        if self.screen not in (Screen.IDLE, Screen.GOODBYE):
            return
        self._reset()
        called = self._call(lambda: self.backend.identify(card, kind))
        if not called[0]:
            return
        self.patron = patron = called[1]
        if patron.language in self.settings.languages:
            self.lang = patron.language
        if patron.staff:
            self.screen = Screen.MAINTENANCE
        elif patron.needs_pin:
            self.screen = Screen.PIN
        else:
            self._open_account()

    def enter_pin(self, pin: str) -> None:
        """The patron typed their kiosk PIN."""
        self.touch()
        if self.screen != Screen.PIN or self.patron is None:
            return
        if not pin.isdigit() or not 4 <= len(pin) <= 8:
            self.notice = Notice("pin_format", "error")
            return
        try:
            self.backend.verify_pin(self.patron, pin)
        except EdgeError as exc:
            self.pin_failures += 1
            if exc.code == "pin_locked" or self.pin_failures >= self.settings.pin_attempts:
                self._goodbye(Notice("pin_locked", "error"))
            else:
                left = self.settings.pin_attempts - self.pin_failures
                self.notice = Notice(exc.code, "error", {"left": left})
            return
        self._open_account()

    def show(self, screen: Screen) -> None:
        """Navigate between the patron's screens."""
        self.touch()
        if self.patron is None or screen not in PATRON_SCREENS:
            return
        if self.screen in (Screen.PIN, Screen.PAYING, Screen.IDLE, Screen.GOODBYE):
            return
        if screen == Screen.PAY and not self.settings.can_pay:
            self.notice = Notice("pay_at_desk", "info")
            return
        if screen in (Screen.RENEW, Screen.PAY) and not self.backend.online:
            self.notice = Notice("needs_connection", "warning")
            return
        self.notice = None
        if screen == Screen.ACCOUNT:
            self._refresh()
        self.screen = screen

    def barcode(self, code: str) -> None:
        """The scanner read a code: a library card when nobody is here, else an item to borrow."""
        if self.screen in (Screen.IDLE, Screen.GOODBYE):
            self.card(code, "barcode")
            return
        if self.screen == Screen.ACCOUNT:
            self.show(Screen.CHECKOUT)
        self.scan(code)

    def scan(self, barcode: str) -> None:
        """An item barcode was scanned on the checkout screen."""
        self.touch()
        if self.screen != Screen.CHECKOUT or self.patron is None:
            return
        if any(b.barcode == barcode for b in self.borrowed):
            self.notice = Notice("already_borrowed_now", "info")
            return
        patron = self.patron
        called = self._call(lambda: self.backend.checkout(patron, barcode))
        if not called[0]:
            return
        done = called[1]
        self.borrowed.append(done)
        if done.queued:
            self.notice = Notice("checkout_queued", "warning", {"title": done.title})
        elif done.warnings:
            self.notice = Notice(done.warnings[0], "warning", {"title": done.title})
        else:
            self.notice = Notice("checkout_ok", "info", {"title": done.title, "due": done.due})

    def renew(self, loan_ids: list[str] | None = None) -> None:
        """Renew the chosen loans, or every renewable one."""
        self.touch()
        if self.screen != Screen.RENEW or self.account is None or self.patron is None:
            return
        patron = self.patron
        ids = loan_ids if loan_ids is not None else [
            loan.id for loan in self.account.loans if loan.renewable]
        if not ids:
            self.notice = Notice("nothing_to_renew", "info")
            return
        called = self._call(lambda: self.backend.renew(patron, ids))
        if not called[0]:
            return
        results = called[1]
        self.renewals.extend(results)
        ok = sum(r.ok for r in results)
        self.notice = Notice("renewed", "info" if ok == len(results) else "warning",
                             {"ok": ok, "refused": len(results) - ok})
        self._refresh()

    def pay(self, debt_ids: list[str] | None = None) -> None:
        """Send the chosen debts (default: all) to the payment terminal as one amount."""
        self.touch()
        if self.screen != Screen.PAY or self.account is None:
            return
        chosen = [d for d in self.account.debts if debt_ids is None or d.id in debt_ids]
        amount = sum(d.amount for d in chosen)
        if amount <= 0:
            self.notice = Notice("nothing_to_pay", "info")
            return
        self.paying = [d.id for d in chosen]
        self.screen = Screen.PAYING
        self.notice = Notice("follow_terminal", "info", {"amount": amount})
        self.terminal.start(amount, self.account.currency, self.payment_done)

    def payment_done(self, result: PaymentResult) -> None:
        """The terminal finished; an approved payment is recorded durably before anything else."""
        self.touch()
        if self.screen != Screen.PAYING or self.patron is None:
            log.error("payment result outside a payment: %s", result.outcome)
            return
        patron = self.patron
        if result.outcome != "approved":
            self.screen = Screen.PAY
            self.notice = Notice(f"payment_{result.outcome}", "warning")
            return
        self.paid.append(Paid(result.amount, result.reference, self.paying))
        self.screen = Screen.PAY
        called = self._call(lambda: self.backend.record_payment(
            patron, self.paying, result.amount, result.reference))
        if not called[0]:
            assert self.notice is not None  # the failed call's
            log.error("approved payment %s not recorded: %s", result.reference, self.notice.code)
            self.notice = Notice("payment_not_recorded", "error", {"reference": result.reference})
            return
        self.notice = Notice("payment_approved", "info", {"amount": result.amount})
        self._refresh()

    def cancel_payment(self) -> None:
        """The patron gave up at the terminal."""
        if self.screen == Screen.PAYING:
            self.terminal.cancel()

    def logout(self) -> None:
        """The patron is done: offer a receipt if anything happened and one can be given, then
        say goodbye."""
        self.touch()
        if self.screen in (Screen.IDLE, Screen.GOODBYE, Screen.PAYING):
            return
        if (self.borrowed or self.renewals or self.paid) and (
                self.settings.can_print or self.email_offered):
            self.screen = Screen.RECEIPT
            self.notice = None
        else:
            self._goodbye()

    def receipt(self, how: str) -> None:
        """Print (when there is a printer), e-mail (when offered), or skip the receipt; then
        say goodbye."""
        self.touch()
        offered = {"print": self.settings.can_print, "email": self.email_offered, "none": True}
        if self.screen != Screen.RECEIPT or self.patron is None or not offered.get(how):
            return
        patron = self.patron
        deliver = {"print": lambda: self.print_receipt(self),
                   "email": lambda: self.backend.email_receipt(
                       patron, self.lang, Translator(self.lang).label("receipt_subject"),
                       self.receipt_lines())}
        if how in deliver:
            if not self._call(deliver[how])[0]:
                assert self.notice is not None  # the failed call's
                self._goodbye(Notice(self.notice.code, "warning"))
                return
        self._goodbye(Notice(f"receipt_{how}", "info") if how != "none" else None)

    def restart(self) -> None:
        """Staff asked to restart from the maintenance screen: a second tap within
        CONFIRM_WITHIN seconds confirms it, so a stray touch restarts nothing."""
        self.touch()
        if self.screen != Screen.MAINTENANCE or self.on_restart is None:
            return
        armed, self._restart_armed = self._restart_armed, self.clock()
        if armed is None or self.clock() - armed > CONFIRM_WITHIN:
            self.notice = Notice("restart_confirm", "warning")
            return
        self.notice = Notice("restarting", "info")
        self.on_restart()

    def leave(self) -> None:
        """Staff close the maintenance screen: straight back to idle."""
        if self.screen == Screen.MAINTENANCE:
            self._idle()

    @property
    def email_offered(self) -> bool:
        """Whether the receipt may be e-mailed: central has an address for the patron."""
        return self.patron is not None and self.patron.email_on_file

    def receipt_lines(self, when: datetime | None = None) -> list[Line]:
        """This session's receipt in the patron's language (no name, no address)."""
        return compose(Translator(self.lang), self.settings.library, self.settings.branch,
                       when or datetime.now(), self.borrowed, self.renewals, self.paid,
                       self.account.currency if self.account else "EUR")

    def tick(self) -> None:
        """Clock input: inactivity warning, automatic logout, goodbye back to idle."""
        now = self.clock()
        if self.screen == Screen.GOODBYE:
            if self._goodbye_at is not None and now - self._goodbye_at >= self.settings.goodbye_for:
                self._idle()
            return
        if self.screen in (Screen.IDLE, Screen.PAYING):
            return
        if now - self._last_touch >= self.settings.logout_after:
            if self.screen == Screen.RECEIPT:
                self._goodbye()
            else:
                self._goodbye(Notice("logged_out_inactive", "info"))
            return
        warned = self.warning_left is not None
        if warned and not self._warned:
            self._cue("attention", texts(self.lang)["stay"].format(seconds=self.warning_left))
        self._warned = warned

    @property
    def warning_left(self) -> int | None:
        """Seconds before automatic logout, once the warning is due (None before)."""
        if self.screen in (Screen.IDLE, Screen.GOODBYE, Screen.PAYING):
            return None
        idle = self.clock() - self._last_touch
        if idle < self.settings.warning_after:
            return None
        return max(0, round(self.settings.logout_after - idle))

    # --- helpers ------------------------------------------------------------------------

    def _open_account(self) -> None:
        self.screen = Screen.ACCOUNT
        self._refresh()

    def _refresh(self) -> None:
        patron = self.patron
        if patron is None:
            return
        called = self._call(lambda: self.backend.account(patron))
        if called[0]:
            self.account = called[1]

    def _idle(self) -> None:
        """Back to the idle screen, in the kiosk's first language."""
        self._reset()
        self.lang = self.settings.languages[0]

    def _cue(self, kind: Cue, words: str) -> None:
        """Play a cue (with the words the screen shows, for a speaker that speaks them); a broken
        buzzer is logged, never in the patron's way."""
        try:
            self.sounder.cue(kind, words, self.lang)
        except Exception:  # noqa: BLE001 - GPIO errors of any kind
            log.exception("sounder failed")

    def _goodbye(self, notice: Notice | None = None) -> None:
        self.screen = Screen.GOODBYE
        self.notice = notice
        self.patron = None
        self.account = None
        self._goodbye_at = self.clock()

    def _call(self, fn: Callable[[], T]) -> tuple[Literal[True], T] | tuple[Literal[False], None]:
        """Run a backend call; a failure becomes a notice with its code, never a traceback."""
        try:
            return True, fn()
        except EdgeError as exc:
            self.notice = Notice(exc.code, "error")
        except Exception:  # noqa: BLE001 - the patron sees a message, staff see the log
            log.exception("kiosk backend call failed")
            self.notice = Notice("internal_error", "error")
        return False, None
