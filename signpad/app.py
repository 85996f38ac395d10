"""The Kivy layer of the signing pad: renders the Pad's state and turns touches and card taps
into its steps, which run on the worker thread; rendering happens on Kivy's main thread."""

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.screenmanager import ScreenManager
from kivy.uix.widget import Widget

from patron_ui.app import PatronApp, give_back_memory
from patron_ui.rows import AccountTexts, account_rows
from patron_ui.widgets import PatronScreen
from patron_ui.worker import SessionWorker
from signpad.canvas import SignatureBox
from signpad.flow import Pad, Screen
from signpad.i18n import Texts
from signpad.terms import pieces
from signpad.texts import LABELS

log = logging.getLogger(__name__)
KV = Path(__file__).with_name("screens.kv")  # not signpad.kv: the app would load it twice


class Frame(PatronScreen):
    """One screen's body inside the shared header, banner, notice and countdown."""

    body_class = StringProperty("")

    def on_kv_post(self, base_widget: Widget) -> None:
        """Put the screen's body widget into the frame."""
        self.ids.body.add_widget(Factory.get(self.body_class)())


class FieldRow(BoxLayout):
    """One field of the form: its label, its value in large type, and "Wrong" beside it."""

    key = StringProperty("")
    label = StringProperty("")
    value = StringProperty("")
    reported = BooleanProperty(False)


class FieldList(GridLayout):
    """The form's fields, one row each, rebuilt when the form (or a report) changes."""

    fields = ListProperty()

    def on_fields(self, _: object, fields: list[dict]) -> None:
        """Show the fields as given."""
        self.clear_widgets()
        for field in fields:
            self.add_widget(FieldRow(**field))


class SignpadApp(PatronApp):
    """The touch UI of one signing pad."""

    t = DictProperty({key: "" for key in LABELS})
    notice = StringProperty("")
    countdown = NumericProperty(-1)
    countdown_total = NumericProperty(10)
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
    offline = BooleanProperty(False)
    queued = BooleanProperty(False)
    message = StringProperty("")
    tab = StringProperty("loans")  # the account's list shown: loans, holds or debts

    def __init__(self, pad: Pad, worker: SessionWorker, library: str = "Library",
                 **kw: Any) -> None:
        super().__init__(**kw)
        self.pad = pad
        self.worker = worker
        self.library = library
        self._events: list[dict] = []
        self._message = ""
        self._signer: str | None = None
        worker.after_each = self._after_step

    def build(self) -> Widget:
        """Load the screens."""
        self.title = "libedge signing pad"
        root = Builder.load_file(str(KV))
        Clock.schedule_once(lambda dt: self.render(), 0)
        return root

    @property
    def screens(self) -> ScreenManager:
        """The screen manager inside the shared header, banner, notice and countdown."""
        manager: ScreenManager = self.root.ids.screens
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
        """On the worker thread after every step: the idle screen's events, then a redraw."""
        try:
            if self.pad.screen == Screen.IDLE:
                tr = Texts(self.pad.lang)
                self._events = [{"id": str(i), "title": e.title,
                                 "detail": " · ".join(filter(None, (
                                     tr.moment(e.starts.astimezone()), e.place)))}
                                for i, e in enumerate(self.pad.events())]
                self._message = self.pad.backend.message(self.pad.lang)
        except Exception:  # noqa: BLE001 - unreadable events must not stop the pad
            log.exception("events or message of the day failed")
        Clock.schedule_once(lambda dt: self.render(), 0)

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

    def render(self) -> None:
        """Show the pad's current state."""
        p = self.pad
        screen = p.screen
        texts = Texts(p.lang)
        self.t = texts.labels()
        self.use_language(p.lang)
        self.notice = texts.notice(p.notice) if p.notice else ""
        left = p.warning_left
        self.countdown = -1 if left is None else left
        self.countdown_total = p.settings.account_for - p.settings.warning_after
        self.offline = not p.backend.online
        self.queued = p.queued
        form = p.form
        self.heading = texts.label(form.kind) if form else self.library
        self.patron = p.patron.display_name if p.patron else ""
        self.events = self._events
        self.message = self._message
        rows = account_rows(AccountTexts(p.lang), p.account, date.today())
        self.loans, self.holds, self.debts = rows["loans"], rows["holds"], rows["debts"]
        self.fields = [{"key": f.key, "label": f.label, "value": f.value,
                        "reported": f.key in p.reported} for f in form.fields] if form else []
        # the terms' pieces exist only while the terms show
        self.terms = pieces(form.terms) if form and screen == Screen.TERMS else []
        self.terms_version = texts.label("terms_version", version=form.terms_version) \
            if form else ""
        signer = p.signer
        self.signer = signer or ""
        if signer != self._signer and self.root:
            self.box.clear()  # a new signer, or the form left: an empty box
        self._signer = signer
        if self.root and self.screens.current != screen.value:
            log.info("screen %s", screen.value)
            self.tab = "loans"
            # what the last screen drew (an account, the terms' large texture, a form) is
            # given back once the new one is drawn; a patron is a second or more on each
            Clock.schedule_once(lambda dt: give_back_memory(), 1.0)
            self.screens.current = screen.value
