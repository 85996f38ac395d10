"""The Kivy app of the return box's display: draws the newest `View` on Kivy's thread and turns
taps into `Action`s for the coordinator."""

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import ScreenManager
from kivy.uix.widget import Widget

from edge_common.catalogues import LANGUAGES
from patron_ui import scale
from patron_ui.app import PatronApp
from patron_ui.widgets import PictoButton
from returnbox.display.rows import bin_rows, item_rows, staff_facts
from returnbox.i18n import Translator
from returnbox.texts import LABELS
from returnbox.views import Action, ActionKind, View

if TYPE_CHECKING:
    from returnbox.display import Layout

log = logging.getLogger(__name__)
KV = Path(__file__).with_name("screens.kv")
SMALL = 600  # px: a window lower than this gets the compact scale


class RbLang(PictoButton):
    """A language choice in the header: the language's code."""

    code = StringProperty("")


def ignore(action: Action) -> None:
    """Where taps go before the coordinator asked for them."""
    log.info("tap %s before the display was started", action.kind)


class BoxApp(PatronApp):
    """The return box's screens; `post(view)` from any thread, taps to `on_action`."""

    t = DictProperty({key: "" for key in LABELS})
    lang = StringProperty("en")
    languages = ListProperty(list(LANGUAGES))
    library = StringProperty("")
    chute_at = StringProperty("down")
    reader_at = StringProperty("right")
    offline = BooleanProperty(False)
    items = ListProperty()
    can_print = BooleanProperty(False)
    can_email = BooleanProperty(False)
    reason = StringProperty("")
    rejected = StringProperty("")  # the title of the item to take back
    shown = StringProperty("idle")  # the screen shown
    code = StringProperty("")
    bins = ListProperty()
    facts = ListProperty()

    def __init__(self, layout: "Layout", **kw: Any) -> None:
        self.scales = ((scale.COMPACT, scale.COMPACT_LARGE) if layout.height < SMALL
                       else (scale.NORMAL, scale.LARGE))
        super().__init__(**kw)
        self.library, self.chute_at, self.reader_at = (layout.library, layout.chute_at,
                                                       layout.reader_at)
        self.on_action: Callable[[Action], None] = ignore
        self._lock = threading.Lock()
        self._next: View | None = View("idle")
        self.posted = 1  # views handed over, and drawn: a tour waits until they agree
        self.drawn = 0

    def build(self) -> Widget:
        """Load the screens and draw the newest view."""
        self.title = "libedge return box"
        root = Builder.load_file(str(KV))
        Clock.schedule_once(self._draw, 0)
        return root

    @property
    def screens(self) -> ScreenManager:
        """The screen manager below the header and the offline banner."""
        manager: ScreenManager = self.root.ids.screens
        return manager

    def post(self, view: View) -> None:
        """Hand `view` over to Kivy's thread (any thread; only the newest is drawn)."""
        with self._lock:
            pending, self._next = self._next is not None, view
            self.posted += 1
        if not pending:
            Clock.schedule_once(self._draw, 0)

    def _draw(self, dt: float) -> None:
        if self.root is None:  # posted before the window was built: build() draws it
            return
        with self._lock:
            view, self._next = self._next, None
            posted = self.posted
        if view is not None:
            try:
                self.render(view)
            except Exception:  # noqa: BLE001 - a bad view must not close the patron's screen
                log.exception("view %s not drawn", view.screen)
        self.drawn = posted

    def render(self, view: View) -> None:
        """Show `view` (Kivy's thread)."""
        tr = Translator(view.lang)
        self.use_language(tr.lang)
        self.lang = tr.lang
        self.t = {key: "" if "{" in text else tr.label(key) for key, text in LABELS.items()}
        self.offline = view.offline
        self.items = item_rows(tr, view.items)
        self.can_print = view.printer
        self.can_email = view.card and view.email_on_file
        self.reason = tr.notice(view.code) if view.code else ""
        last = view.items[-1] if view.items else None
        self.rejected = last.title or last.barcode if last and last.route == "reject" else ""
        self.code = tr.label("code", code=view.code) if view.code else ""
        if view.staff is not None:
            self.bins = bin_rows(tr, view.staff)
            self.facts = staff_facts(tr, view.staff)
        if self.screens.current != view.screen:
            log.info("screen %s", view.screen)
            self.screens.current = view.screen
            self.shown = view.screen

    def act(self, kind: ActionKind, arg: str | None = None) -> None:
        """Report a tap to the coordinator (which only posts it to its own thread)."""
        try:
            self.on_action(Action(kind, arg))
        except Exception:  # noqa: BLE001 - a failing callback must not close the screen
            log.exception("tap %s not delivered", kind)

    def on_bins(self, _: object, bins: list[dict]) -> None:
        """Redraw the staff view's bins."""
        self._refill("bins", "RbBin", bins)

    def on_facts(self, _: object, facts: list[dict]) -> None:
        """Redraw the staff view's facts."""
        self._refill("facts", "RbFact", facts)

    def _refill(self, box: str, kind: str, entries: list[dict]) -> None:
        if self.root is None:
            return
        holder = self.screens.get_screen("staff").ids[box]
        holder.clear_widgets()
        for entry in entries:
            widget = Factory.get(kind)()  # a kv class takes its properties after it is made
            for key, value in entry.items():
                setattr(widget, key, value)
            holder.add_widget(widget)
