"""The Kivy layer: renders the Session and turns touches, cards and scans into its inputs.

Session methods run on one worker thread (they may wait on central); rendering happens on
Kivy's main thread after each step.
"""

import logging
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    DictProperty,
    ListProperty,
    StringProperty,
)
from kivy.uix.button import Button
from kivy.uix.screenmanager import Screen as KivyScreen
from kivy.uix.widget import Widget

from kiosk.i18n import LANGUAGES, Translator
from kiosk.maintenance import Fact
from kiosk.rows import account_rows, borrowed_rows
from kiosk.session import Screen, Session
from kiosk.texts import LABELS
from kiosk.worker import SessionWorker

log = logging.getLogger(__name__)
CJK_FONTS = ["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"]
KV = Path(__file__).with_name("screens.kv")  # not kiosk.kv: KioskApp would load that twice
FACTS_EVERY = 5.0  # seconds between refreshes of the maintenance facts


class Frame(KivyScreen):
    """A screen with the common header and notice bar around its body (screens.kv)."""

    body_class = StringProperty("")

    def on_kv_post(self, base_widget: Widget) -> None:
        """Put the screen's body widget into the frame."""
        self.ids.body.add_widget(Factory.get(self.body_class)())


class Btn(Button):
    """The kiosk's big touch button (styled in screens.kv)."""

    tone = ColorProperty()  # its colour outside high-contrast mode


class LangButton(Btn):
    """A language choice on the idle screen."""

    code = StringProperty("")


def register_fonts() -> str:
    """Register a font with Chinese glyphs as "Kiosk" (Roboto otherwise); return its name."""
    for path in CJK_FONTS:
        if Path(path).exists():
            LabelBase.register("Kiosk", path)
            return "Kiosk"
    log.warning("no CJK font found; Chinese will not render (install fonts-wqy-microhei)")
    return "Roboto"


class KioskApp(App):
    """The touch UI of one kiosk."""

    t = DictProperty({key: "" for key in LABELS})
    notice = StringProperty("")
    level = StringProperty("info")
    warning = StringProperty("")
    patron = StringProperty("")
    loans = ListProperty()
    holds = ListProperty()
    debts = ListProperty()
    borrowed = ListProperty()
    pin = StringProperty("")
    large = BooleanProperty(False)
    contrast = BooleanProperty(False)
    offline = BooleanProperty(False)
    facts = ListProperty()
    restartable = BooleanProperty(False)
    email_offered = BooleanProperty(False)
    font = StringProperty("Roboto")
    languages = ListProperty()

    def __init__(self, session: Session, worker: SessionWorker,
                 status: Callable[[], list[Fact]] = list, **kw: Any) -> None:
        super().__init__(**kw)
        self.session = session
        self.status = status
        self._facts: list[Fact] = []
        self._facts_at: float | None = None
        self.selected: set[str] = set()
        self.worker = worker
        worker.after_each = self._after_step

    def build(self) -> Widget:
        """Load the screens."""
        self.font = register_fonts()
        self.title = "libedge kiosk"
        self.languages = [(code, name) for code, name in LANGUAGES.items()]
        root = Builder.load_file(str(KV))
        Clock.schedule_once(lambda dt: self.render(), 0)
        return root

    def on_start(self) -> None:
        """Log when the first frame is on the screen (the end of a cold start)."""
        from kivy.core.window import Window

        def shown(*_: object) -> None:
            Window.unbind(on_flip=shown)
            log.info("kiosk ready: %s screen shown", self.root.current)
        Window.bind(on_flip=shown)

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
        """On the session thread after every step: gather facts if needed, then redraw."""
        try:
            self._gather()
        except Exception:  # noqa: BLE001 - a broken fact source must not stop the kiosk
            log.exception("maintenance facts failed")
        Clock.schedule_once(lambda dt: self.render(), 0)

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
        self.selected.clear()
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

    def toggle(self, item_id: str, down: bool) -> None:
        """Select or unselect a loan or a debt."""
        self.session.touch()
        (self.selected.add if down else self.selected.discard)(item_id)

    def renew(self, everything: bool) -> None:
        """Renew the selected loans or all."""
        ids = None if everything else sorted(self.selected)
        self.selected.clear()
        self.act(lambda: self.session.renew(ids))

    def pay(self, everything: bool) -> None:
        """Pay the selected debts or all."""
        ids = None if everything else sorted(self.selected)
        self.selected.clear()
        self.act(lambda: self.session.pay(ids))

    def on_touch_anywhere(self) -> None:
        """Any touch keeps the session alive."""
        self.session.touch()

    # --- rendering (main thread) ---------------------------------------------------------

    def render(self) -> None:
        """Show the session's current state.

        The session thread may move on while this runs: the screen is read once, so the log,
        the facts and the shown screen agree; the render after that step shows the rest.
        """
        s = self.session
        screen = s.screen
        tr = Translator(s.lang)
        account = s.account
        texts = {key: "" if "{" in text else tr.label(key) for key, text in LABELS.items()}
        texts["pay_all"] = tr.label("pay_all", amount=account.owed) if account else ""
        self.t = texts  # one assignment, dispatched only when a text changed
        self.notice = tr.notice(s.notice.code, **s.notice.params) if s.notice else ""
        self.level = s.notice.level if s.notice else "info"
        left = s.warning_left
        self.warning = tr.label("inactive_warning", seconds=left) if left is not None else ""
        self.offline = not s.backend.online
        self.email_offered = s.email_offered
        self.patron = s.patron.display_name if s.patron else ""
        rows = account_rows(tr, account, date.today())
        self.loans, self.holds, self.debts = rows["loans"], rows["holds"], rows["debts"]
        self.borrowed = borrowed_rows(tr, s.borrowed)
        if screen == Screen.MAINTENANCE:
            self.restartable = s.on_restart is not None
            self.facts = [{"label": tr.label(f.label, **f.params),
                           "value": tr.label(f.value, **f.params), "level": f.level}
                          for f in self._facts]
        if self.root and self.root.current != screen.value:
            log.info("screen %s", screen.value)
            self.root.current = screen.value
