"""The Kivy layer of the signing pad: draws the Pad's View and turns touches and card taps into
its steps.

Pad steps run on one worker thread; after each step that thread reads the Pad into an immutable
View, which Kivy's main thread then draws.
"""

import logging
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
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import ScreenManager
from kivy.uix.widget import Widget

from patron_ui.app import PatronApp, give_back_memory
from patron_ui.view import Rows
from patron_ui.worker import SessionWorker
from signpad.canvas import SignatureBox
from signpad.flow import Pad, Screen
from signpad.texts import LABELS
from signpad.view import PadView, event_rows, view_of

log = logging.getLogger(__name__)
KV = Path(__file__).with_name("screens.kv")  # not signpad.kv: the app would load it twice


class FieldRow(BoxLayout):
    """One field of the form: its label, its value in large type, and "Wrong" beside it."""

    key = StringProperty("")
    label = StringProperty("")
    value = StringProperty("")
    reported = BooleanProperty(False)


class SignpadApp(PatronApp):
    """The touch UI of one signing pad."""

    t = DictProperty({key: "" for key in LABELS})
    library = StringProperty("")
    heading = StringProperty("")
    patron = StringProperty("")
    events = ListProperty()
    loans = ListProperty()
    holds = ListProperty()
    debts = ListProperty()
    fields = ListProperty()
    terms = ListProperty()  # the pieces of the terms (signpad.terms), while they show
    terms_version = StringProperty("")
    signer = StringProperty("")
    queued = BooleanProperty(False)
    message = StringProperty("")
    tab = StringProperty("loans")  # the account's list shown: loans, holds or debts

    def __init__(self, pad: Pad, worker: SessionWorker, library: str = "Library",
                 **kw: Any) -> None:
        super().__init__(**kw)
        self.pad = pad
        self.worker = worker
        self.library = library
        self._events: Rows = ()
        self._message = ""
        self._signer = ""
        worker.after_each = self._after_step

    def build(self) -> Widget:
        """Load the screens."""
        self.title = "libedge signing pad"
        root = Builder.load_file(str(KV))
        view = self.view()   # the pad does not move before the worker starts
        Clock.schedule_once(lambda dt: self.render(view), 0)
        return root

    @property
    def screens(self) -> ScreenManager:
        """The screen manager inside the chrome."""
        manager: ScreenManager = self.root.screens
        return manager

    @property
    def box(self) -> SignatureBox:
        """The signature box on the signature screen."""
        found = [w for w in self.screens.get_screen("sign").walk()
                 if isinstance(w, SignatureBox)]
        return found[0]

    # --- inputs (any thread) ---------------------------------------------------------------

    def act(self, step: Callable[[], None]) -> None:
        """Run a flow step on the worker thread, then re-render."""
        self.worker.act(step)

    def card(self, uid: str, kind: str = "uid") -> None:
        """A card tap."""
        self.act(lambda: self.pad.card(uid, kind))

    def _after_step(self) -> None:
        """On the worker thread after every step: the idle screen's events and message of the
        day, then the View, which Kivy draws."""
        try:
            if self.pad.screen == Screen.IDLE:
                self._events = event_rows(self.pad)
                self._message = self.pad.backend.message(self.pad.lang)
        except Exception:  # noqa: BLE001 - unreadable events must not stop the pad
            log.exception("events or message of the day failed")
        view = self.view()
        Clock.schedule_once(lambda dt: self.render(view), 0)

    def view(self) -> PadView:
        """The Pad's View now (on the worker thread, or before it starts)."""
        return view_of(self.pad, self.library, self._events, self._message, date.today())

    # --- touches (main thread) -------------------------------------------------------------

    def on_touch_anywhere(self) -> None:
        """Any touch keeps the account open."""
        self.pad.touch()

    def wrong(self, field: str) -> None:
        """"Wrong" beside a field."""
        self.act(lambda: self.pad.wrong(field))

    def confirm(self) -> None:
        """Confirm the signature in the box."""
        box = self.box
        strokes = [list(s) for s in box.strokes]
        width, height = round(box.width), round(box.height)
        self.act(lambda: self.pad.sign(strokes, width, height))

    # --- rendering (main thread) -----------------------------------------------------------

    def render(self, view: PadView) -> None:
        """Draw a View; it never reads the Pad, which the worker thread may be changing."""
        self.draw_chrome(view)
        self.queued = view.queued
        self.heading, self.patron = view.heading, view.patron
        self.events, self.message = list(view.events), view.message
        self.loans, self.holds, self.debts = list(view.loans), list(view.holds), list(view.debts)
        self.fields = list(view.fields)
        self.terms = list(view.terms)  # the terms' pieces exist only while the terms show
        self.terms_version = view.terms_version
        self.signer = view.signer
        if view.signer != self._signer and self.root:
            self.box.clear()  # a new signer, or the form left: an empty box
        self._signer = view.signer
        screen = view.screen
        if self.root and self.screens.current != screen.value:
            log.info("screen %s", screen.value)
            self.tab = "loans"
            # what the last screen drew (an account, the terms' large texture, a form) is
            # given back once the new one is drawn; a patron is a second or more on each
            Clock.schedule_once(lambda dt: give_back_memory(), 1.0)
            self.screens.current = screen.value
