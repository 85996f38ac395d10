"""The Kivy app of the return box's display: draws the newest `View` on Kivy's thread and turns
taps into `Action`s for the coordinator."""

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import ScreenManager
from kivy.uix.widget import Widget

from edge_common.catalogues import LANGUAGES
from patron_ui import scale
from patron_ui.app import PatronApp
from patron_ui.widgets import PictoButton
from returnbox.display.view import view_of
from returnbox.texts import LABELS
from returnbox.views import Action, ActionKind, View

if TYPE_CHECKING:
    from returnbox.display import Layout

log = logging.getLogger(__name__)
KV = Path(__file__).with_name("screens.kv")
SMALL = 600  # px: a window lower than this gets the compact scale


class LanguageCode(PictoButton):
    """A language choice in the header: the language's code."""

    code = StringProperty("")


def ignore(action: Action) -> None:
    """Where taps go before the coordinator asked for them."""
    log.info("tap %s before the display was started", action.kind)


class BoxApp(PatronApp):
    """The return box's screens; `post(view)` from any thread, taps to `on_action`."""

    t = DictProperty({key: "" for key in LABELS})
    languages = ListProperty(list(LANGUAGES))
    library = StringProperty("")
    heading = StringProperty("")  # the header's title
    chute_at = StringProperty("down")
    reader_at = StringProperty("right")
    items = ListProperty()
    can_print = BooleanProperty(False)
    can_email = BooleanProperty(False)
    reason = StringProperty("")
    rejected = StringProperty("")  # the title of the item to take back
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

    def build(self) -> Widget:
        """Load the screens and draw the newest view."""
        self.title = "libedge return box"
        root = Builder.load_file(str(KV))
        Clock.schedule_once(self._draw, 0)
        return root

    @property
    def screens(self) -> ScreenManager:
        """The screen manager inside the chrome."""
        manager: ScreenManager = self.root.screens
        return manager

    def post(self, view: View) -> None:
        """Hand `view` over to Kivy's thread (any thread; only the newest is drawn)."""
        with self._lock:
            pending, self._next = self._next is not None, view
        if not pending:
            Clock.schedule_once(self._draw, 0)

    def _draw(self, dt: float) -> None:
        if self.root is None:  # posted before the window was built: build() draws it
            return
        with self._lock:
            view, self._next = self._next, None
        if view is not None:
            try:
                self.render(view)
            except Exception:  # noqa: BLE001 - a bad view must not close the patron's screen
                log.exception("view %s not drawn", view.screen)

    def render(self, view: View) -> None:
        """Show `view` (Kivy's thread)."""
        shown = view_of(view, self.library)
        self.draw_chrome(shown)
        self.heading = shown.heading
        self.items = list(shown.items)
        self.can_print, self.can_email = shown.can_print, shown.can_email
        self.reason, self.rejected, self.code = shown.reason, shown.rejected, shown.code
        self.bins, self.facts = list(shown.bins), list(shown.facts)
        if self.screens.current != shown.screen:
            log.info("screen %s", shown.screen)
            self.screens.current = shown.screen

    def act(self, kind: ActionKind, arg: str | None = None) -> None:
        """Report a tap to the coordinator (which only posts it to its own thread)."""
        try:
            self.on_action(Action(kind, arg))
        except Exception:  # noqa: BLE001 - a failing callback must not close the screen
            log.exception("tap %s not delivered", kind)
