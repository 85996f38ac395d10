"""The Kivy layer: draws the session's View and turns touches, cards and scans into its inputs.

Session methods run on one worker thread (they may wait on central); after each step that
thread reads the session into an immutable View, which Kivy's main thread then draws.
"""

import logging
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    StringProperty,
)
from kivy.uix.screenmanager import ScreenManager
from kivy.uix.widget import Widget

from kiosk.i18n import LANGUAGES
from kiosk.maintenance import Fact
from kiosk.session import Screen, Session
from kiosk.texts import LABELS
from kiosk.view import KioskView, view_of
from patron_ui.app import PatronApp, give_back_memory
from patron_ui.widgets import PictoButton
from patron_ui.worker import SessionWorker

log = logging.getLogger(__name__)
KV = Path(__file__).with_name("screens.kv")  # not kiosk.kv: KioskApp would load that twice
FACTS_EVERY = 5.0  # seconds between refreshes of the maintenance facts


class LangButton(PictoButton):
    """A language choice on the idle screen."""

    code = StringProperty("")


class KeyButton(PictoButton):
    """A PIN keypad key: a digit, "back" or "ok"."""

    key = StringProperty("")


class KioskApp(PatronApp):
    """The touch UI of one kiosk."""

    t = DictProperty({key: "" for key in LABELS})
    message = StringProperty("")
    library = StringProperty("")
    patron = StringProperty("")
    loans = ListProperty()
    holds = ListProperty()
    debts = ListProperty()
    borrowed = ListProperty()
    pin = StringProperty("")
    facts = ListProperty()
    restartable = BooleanProperty(False)
    email_offered = BooleanProperty(False)
    languages = ListProperty()

    def __init__(self, session: Session, worker: SessionWorker,
                 status: Callable[[], list[Fact]] = list, **kw: Any) -> None:
        super().__init__(**kw)
        self.session = session
        self.status = status
        self._facts: list[Fact] = []
        self._facts_at: float | None = None
        self._message = ""
        self.worker = worker
        worker.after_each = self._after_step

    def build(self) -> Widget:
        """Load the screens."""
        self.title = "libedge kiosk"
        self.languages = [(code, name) for code, name in LANGUAGES.items()]
        root = Builder.load_file(str(KV))
        view = self.view()   # the session does not move before the worker starts
        Clock.schedule_once(lambda dt: self.render(view), 0)
        return root

    def on_start(self) -> None:
        """Log when the first frame is on the screen (the end of a cold start)."""
        super().on_start()
        from kivy.core.window import Window

        def shown(*_: object) -> None:
            Window.unbind(on_flip=shown)
            log.info("kiosk ready: %s screen shown", self.screens.current)
        Window.bind(on_flip=shown)

    @property
    def screens(self) -> ScreenManager:
        """The screen manager inside the chrome."""
        manager: ScreenManager = self.root.screens
        return manager

    # --- inputs (any thread) -------------------------------------------------------------

    def act(self, step: Callable[[], None]) -> None:
        """Run a session step on the session thread, then re-render."""
        self.worker.act(step)

    def card(self, uid: str, kind: str = "uid") -> None:
        """A card reader or the card-barcode scanner saw a card."""
        self.act(lambda: self.session.card(uid, kind))

    def scan(self, barcode: str) -> None:
        """The item scanner read a barcode."""
        self.act(lambda: self.session.scan(barcode))

    def _after_step(self) -> None:
        """On the session thread after every step: gather facts and, on the idle screen (the only
        one showing it), the message of the day; then the View, which Kivy draws."""
        try:
            self._gather()
        except Exception:  # noqa: BLE001 - a broken fact source must not stop the kiosk
            log.exception("maintenance facts failed")
        try:
            if self.session.screen == Screen.IDLE:
                self._message = self.session.message
        except Exception:  # noqa: BLE001 - an unreadable message must not stop the kiosk
            log.exception("message of the day failed")
        view = self.view()
        Clock.schedule_once(lambda dt: self.render(view), 0)

    def view(self) -> KioskView:
        """The session's View now (on the session thread, or before it starts)."""
        return view_of(self.session, self._message, self._facts, date.today())

    def _gather(self) -> None:
        """Refresh the maintenance facts while that screen shows (here: they may wait on I/O)."""
        if self.session.screen != Screen.MAINTENANCE:
            self._facts_at = None
            return
        now = time.monotonic()
        if self._facts_at is None or now - self._facts_at >= FACTS_EVERY:
            self._facts_at = now
            self._facts = self.status()

    # --- touches (main thread) -----------------------------------------------------------

    def go(self, screen: str) -> None:
        """Navigate to one of the patron's screens."""
        self.act(lambda: self.session.show(Screen(screen)))

    def language(self, code: str) -> None:
        """Choose the UI language."""
        self.act(lambda: self.session.set_language(code))

    def key(self, digit: str) -> None:
        """A PIN keypad key: a digit, "back" or "ok"."""
        self.session.touch()
        if digit == "back":
            self.pin = self.pin[:-1]
        elif digit == "ok":
            pin, self.pin = self.pin, ""
            self.act(lambda: self.session.enter_pin(pin))
        elif len(self.pin) < 8:
            self.pin += digit

    def renew(self, chosen: list[str] | None) -> None:
        """Renew the chosen loans, or all (None)."""
        self.act(lambda: self.session.renew(chosen))

    def pay(self, chosen: list[str] | None) -> None:
        """Pay the chosen debts, or all (None)."""
        self.act(lambda: self.session.pay(chosen))

    def on_touch_anywhere(self) -> None:
        """Any touch keeps the session alive."""
        self.session.touch()

    # --- rendering (main thread) ---------------------------------------------------------

    def render(self, view: KioskView) -> None:
        """Draw a View; it never reads the session, which its thread may be changing."""
        screen = view.screen
        self.draw_chrome(view)
        self.library = view.library
        self.message = view.message
        self.email_offered = view.email_offered
        self.patron = view.patron
        self.loans, self.holds, self.debts = list(view.loans), list(view.holds), list(view.debts)
        self.borrowed = list(view.borrowed)
        if screen == Screen.MAINTENANCE:
            self.restartable = view.restartable
            self.facts = list(view.facts)
        if self.root and self.screens.current != screen.value:
            log.info("screen %s", screen.value)
            self.screens.current = screen.value
            if screen == Screen.IDLE:
                Clock.schedule_once(lambda dt: give_back_memory(), 1.0)  # once it is drawn
