"""The shared patron-screen widgets (drawn by theme.kv): the frame and chrome around an app's
screens, pictogram buttons, rows with check boxes in paged lists, the inactivity countdown, PIN
dots and the reader animation."""

from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.factory import Factory
from kivy.graphics import Color, Ellipse, Quad, Rectangle, RoundedRectangle, Triangle
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget


class DataLabel(Label):
    """A label showing data, such as a title from the catalogue: shortened with an ellipsis
    when longer than its box, so the fit check leaves it out (the screens' own texts must fit)."""


class PictoButton(ButtonBehavior, BoxLayout):
    """A big touch button: a pictogram and its words, coloured by a palette tone."""

    text = StringProperty("")
    icon = StringProperty("")
    border = NumericProperty(0)  # px of outline (high contrast)
    tone = StringProperty("accent")
    vertical = BooleanProperty(False)
    type_size = StringProperty("button")  # which size of the scale its words use


class CheckRow(ButtonBehavior, BoxLayout):
    """One line of a list: a title and a detail, with a check box when it can be chosen."""

    item_id = StringProperty("")
    title = StringProperty("")
    detail = StringProperty("")
    level = StringProperty("")  # "", "ok" (ready), "warn" or "bad" (a problem): colours the detail
    icon = StringProperty("")  # a pictogram of its own instead of the level's
    selectable = BooleanProperty(False)
    choosing = BooleanProperty(False)
    chosen = BooleanProperty(False)
    border = NumericProperty(1)  # px of outline: thick when chosen
    owner = ObjectProperty(None, allownone=True)

    def on_release(self) -> None:
        """Choose or unchoose the row."""
        if self.owner is not None and self.choosing and self.selectable:
            self.owner.toggle(self.item_id)


class PagedList(BoxLayout):
    """Rows as large as the theme says, as many as fit, with pages when there are more.

    `rows` are dicts (id, title, detail, selectable, level, icon); with `choosing` on,
    selectable rows get check boxes and a "choose all" line, and `chosen` holds the chosen ids.
    """

    rows = ListProperty()
    choosing = BooleanProperty(False)
    chosen = ListProperty()
    choosable = ListProperty()
    page = NumericProperty(0)
    pages = NumericProperty(1)
    follow = BooleanProperty(False)  # a growing list shows its last page (the newest row)
    sizes = DictProperty()  # the app's scale (theme.kv: a kv binding, dropped with the list)

    def __init__(self, **kw: Any) -> None:
        self._refill = Clock.create_trigger(lambda dt: self.refill())
        self._pool: list[CheckRow] = []  # row widgets, reused page after page
        self._seen = 0  # rows the list had before, to notice growth
        self._at_end = True  # a following list stays on its last page until turned back
        super().__init__(**kw)
        self.bind(rows=self._rows_changed, choosing=self._refill, chosen=self._refill,
                  page=self._refill, sizes=self._refill)

    def on_kv_post(self, base_widget: Widget) -> None:
        """Refill when the slots' height or the row size changes."""
        self.ids.slots.bind(height=self._refill)
        self._refill()

    def _rows_changed(self, _: object, rows: list[dict]) -> None:
        if len(rows) > self._seen:
            self._at_end = True  # a new row: a following list shows it
        self._seen = len(rows)
        self.choosable = [r["id"] for r in self.rows if r.get("selectable")]
        kept = [i for i in self.chosen if i in self.choosable]
        if kept != self.chosen:
            self.chosen = kept
        self.refill()  # at once: new rows show in the same frame as the rest of the news

    def toggle(self, item_id: str) -> None:
        """Choose or unchoose one row."""
        App.get_running_app().on_touch_anywhere()
        self.chosen = ([i for i in self.chosen if i != item_id] if item_id in self.chosen
                       else [*self.chosen, item_id])

    def toggle_all(self) -> None:
        """Choose every row that can be chosen, or none when all are."""
        App.get_running_app().on_touch_anywhere()
        every = self.choosable
        self.chosen = [] if set(every) <= set(self.chosen) else every

    def turn(self, by: int) -> None:
        """Show the next (1) or previous (-1) page."""
        App.get_running_app().on_touch_anywhere()
        self.page = min(max(0, self.page + by), self.pages - 1)
        self._at_end = self.page == self.pages - 1

    def reset(self) -> None:
        """Back to the first page with nothing chosen (the screen was left)."""
        self.chosen = []
        self.page = 0
        self._at_end = True

    def per_page(self) -> int:
        """How many rows fit: all of them when they fit without the page buttons, else as many
        as fit beside those buttons."""
        s = App.get_running_app().s
        gap, pager = dp(s["gap"]), dp(s["bar"] * 0.8)
        room = self.ids.slots.height + (pager + gap if self.pages > 1 else 0)

        def fitting(height: float) -> int:
            return max(1, int((height + gap) // (dp(s["row"]) + gap)))
        return len(self.rows) if len(self.rows) <= fitting(room) else fitting(room - pager - gap)

    def refill(self) -> None:
        """Put the current page's rows into the slots (only while on the screen: a hidden list
        fills when its screen comes, see PatronScreen)."""
        if self.get_root_window() is None:
            return
        slots = self.ids.slots
        per = max(1, self.per_page())
        self.pages = max(1, -(-len(self.rows) // per))
        self.page = self.pages - 1 if self.follow and self._at_end else min(self.page,
                                                                            self.pages - 1)
        shown = self.rows[self.page * per:(self.page + 1) * per]
        while len(self._pool) < len(shown):
            self._pool.append(CheckRow(owner=self))
        for widget, row in zip(self._pool, shown, strict=False):
            widget.item_id, widget.title, widget.detail = row["id"], row["title"], row["detail"]
            widget.level = row.get("level", "")
            widget.icon = row.get("icon", "")
            widget.selectable = row.get("selectable", False)
            widget.choosing = self.choosing
            widget.chosen = row["id"] in self.chosen
        wanted = self._pool[:len(shown)]
        if [w for w in reversed(slots.children) if isinstance(w, CheckRow)] != wanted:
            slots.clear_widgets()
            for widget in wanted:
                slots.add_widget(widget)
            slots.add_widget(Widget())  # keeps the rows at the top


class PinDots(Widget):
    """The digits typed so far as filled dots, in at least four places."""

    count = NumericProperty(0)
    places = NumericProperty(4)
    ink = ListProperty([0, 0, 0, 1])
    paper = ListProperty([1, 1, 1, 1])

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.bind(count=self._draw, places=self._draw, ink=self._draw, paper=self._draw,
                  pos=self._draw, size=self._draw)

    def _draw(self, *_: object) -> None:
        places = max(int(self.places), int(self.count))
        d = min(self.height * 0.6, dp(36))
        step = d * 1.6
        x0 = self.center_x - step * (places - 1) / 2 - d / 2
        y = self.center_y - d / 2
        self.canvas.clear()
        with self.canvas:
            edge = dp(3)
            for i in range(places):
                Color(*self.ink)
                Ellipse(pos=(x0 + i * step, y), size=(d, d))
                if i >= self.count:  # an empty place: a ring
                    Color(*self.paper)
                    Ellipse(pos=(x0 + i * step + edge, y + edge), size=(d - 2 * edge, d - 2 * edge))


class ReaderHint(Widget):
    """An animation of a card going to the reader (or a barcode going under the scanner),
    with an arrow towards where the reader is on the machine."""

    kind = OptionProperty("card", options=["card", "barcode"])
    towards = OptionProperty("down", options=["down", "left", "right"])
    animated = BooleanProperty(True)  # False: one still picture, the card (or book) arrived
    phase = NumericProperty(1.0)
    ink = ListProperty([0, 0, 0, 1])
    accent = ListProperty([0, 0, 1, 1])
    surface = ListProperty([1, 1, 1, 1])
    beam = ListProperty([0.8, 0, 0, 1])

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._animation: ClockEvent | None = None
        self._clock = 0.0
        self.bind(phase=self._draw, pos=self._draw, size=self._draw, ink=self._draw,
                  accent=self._draw, surface=self._draw, kind=self._draw, towards=self._draw)

    def start(self) -> None:
        """Play the animation over and over while its screen shows, at FPS frames a second
        (a software-rendered screen redraws whole for each)."""
        if self.animated and self._animation is None:
            self.phase = 0.0
            self._animation = Clock.schedule_interval(self._step, 1 / FPS)

    def stop(self) -> None:
        """Stop the animation (its screen was left)."""
        if self._animation is not None:
            self._animation.cancel()
            self._animation = None
            self.phase = 1.0

    def _step(self, dt: float) -> None:
        """Move on by `dt`: the card travels for 2 s, rests for 0.6 s, starts again."""
        at = (self._clock + dt) % CYCLE
        self._clock = at
        self.phase = min(1.0, at / TRAVEL)

    def _draw(self, *_: object) -> None:
        self.canvas.clear()
        if self.width < 10 or self.height < 10:
            return
        (self._card if self.kind == "card" else self._barcode)()

    def _arrow(self, x: float, y: float, size: float) -> None:
        """A filled arrow at (x, y) pointing where the reader is."""
        dx, dy = {"down": (0, -1), "left": (-1, 0), "right": (1, 0)}[self.towards]
        px, py = -dy, dx
        shaft, head = size * 0.3, size * 0.9

        def at(along: float, across: float) -> list[float]:
            return [x + dx * along + px * across, y + dy * along + py * across]
        Color(*self.accent)
        Quad(points=[*at(-size, -shaft), *at(-size, shaft), *at(size - head, shaft),
                     *at(size - head, -shaft)])
        Triangle(points=[*at(size, 0), *at(size - head, head * 0.8), *at(size - head, -head * 0.8)])

    def _card(self) -> None:
        w, h = self.width, self.height
        pad_w, pad_h = min(w * 0.7, h * 0.9), h * 0.16
        pad_x, pad_y = self.center_x - pad_w / 2, self.y + h * 0.12
        card_w = min(pad_w * 0.62, (self.top - pad_y) * 0.45 * 1.586)
        card_h = card_w / 1.586
        travel = self.phase
        rest = pad_y + pad_h * 0.6
        card_y = rest + (1 - travel) * max(0.0, self.top - card_h - rest)
        with self.canvas:
            Color(*self.ink)
            RoundedRectangle(pos=(pad_x, pad_y), size=(pad_w, pad_h), radius=[dp(10)])
            Color(*self.accent)
            RoundedRectangle(pos=(self.center_x - card_w / 2, card_y), size=(card_w, card_h),
                             radius=[dp(8)])
            Color(*self.surface)
            Rectangle(pos=(self.center_x - card_w * 0.38, card_y + card_h * 0.55),
                      size=(card_w * 0.3, card_h * 0.22))
            if travel >= 1.0:  # the card is read: waves beside it
                mid_x, mid_y = self.center_x + card_w / 2 + dp(8), card_y + card_h / 2
                for i in reversed(range(3)):
                    r = card_h * (0.2 + 0.15 * i)
                    for colour, radius in ((self.accent, r), (self.surface, r - dp(5))):
                        Color(*colour)
                        Ellipse(pos=(mid_x - radius, mid_y - radius),
                                size=(2 * radius, 2 * radius), angle_start=45, angle_end=135)
            self._arrow(self.center_x, pad_y - h * 0.05, max(dp(16), h * 0.045))

    def _barcode(self) -> None:
        w, h = self.width, self.height
        book_w = min(w * 0.5, h * 0.45)
        book_h = book_w * 1.3
        travel = self.phase
        book_x = self.center_x - book_w / 2
        rest = self.y + h * 0.12
        book_y = rest + (1 - travel) * max(0.0, self.top - book_h - rest)
        scan_y = self.y + h * 0.12 + book_h * 0.2
        with self.canvas:
            Color(*self.accent)
            RoundedRectangle(pos=(book_x, book_y), size=(book_w, book_h), radius=[dp(6)])
            Color(*self.surface)
            code_x, code_y = book_x + book_w * 0.15, book_y + book_h * 0.1
            Rectangle(pos=(code_x, code_y), size=(book_w * 0.7, book_h * 0.2))
            Color(*self.ink)
            for i, bar in enumerate((2, 1, 3, 1, 2, 2, 1, 3, 1, 1, 2, 1)):
                Rectangle(pos=(code_x + book_w * (0.03 + i * 0.054), code_y + book_h * 0.02),
                          size=(book_w * 0.012 * bar, book_h * 0.16))
            if travel >= 1.0:  # the barcode is read: the scanner's beam across it
                Color(*self.beam)
                Rectangle(pos=(book_x - w * 0.05, scan_y - dp(2)), size=(book_w + w * 0.1, dp(4)))
            self._arrow(self.center_x, self.y + h * 0.06, max(dp(16), h * 0.045))


FPS = 12  # frames a second of the reader animation
TRAVEL, CYCLE = 2.0, 2.6  # seconds the card travels, and of one whole loop


class PatronScreen(Screen):
    """A screen whose animations play only while it shows, and whose lists start afresh."""

    def on_pre_enter(self, *_: object) -> None:
        """Fill the lists before the screen's first frame."""
        for w in self.walk():
            if isinstance(w, PagedList):
                w.refill()

    def on_enter(self, *_: object) -> None:
        """Start the animations."""
        for w in self.walk():
            if isinstance(w, ReaderHint):
                w.start()

    def on_leave(self, *_: object) -> None:
        """Stop the animations; lists go back to page one with nothing chosen."""
        for w in self.walk():
            if isinstance(w, ReaderHint):
                w.stop()
            elif isinstance(w, PagedList):
                w.reset()


class Frame(PatronScreen):
    """One screen of an app inside the chrome (theme.kv); `body_class` names its body's widget."""

    body_class = StringProperty("")

    def on_kv_post(self, base_widget: Widget) -> None:
        """Put the screen's body widget into the frame."""
        self.ids.body.add_widget(Factory.get(self.body_class)())


class Notice(BoxLayout):
    """The bar under the screens with the app's notice, coloured by its level (theme.kv)."""

    tone = StringProperty("warn")  # the palette's colour for the level: ok, warn or bad


class Chrome(BoxLayout):
    """What every patron app shows around its screens (theme.kv): the header with its title and
    the mode toggles, the offline banner, the notice and the countdown."""

    icon = StringProperty("library-books")
    title = StringProperty("")
    banner_rows = NumericProperty(0.6)  # the offline banner's height, in rows
    screens_class = StringProperty("")  # the app's ScreenManager, by its kv name
    screens = ObjectProperty(None)
    tools_class = StringProperty("")  # the app's own controls in the header, by kv name, if any
    toggle_words = BooleanProperty(True)  # the mode toggles say their names (False: pictograms)

    def on_kv_post(self, base_widget: Widget) -> None:
        """Put the app's screens into the chrome, and its own controls before the toggles."""
        self.screens = Factory.get(self.screens_class)()
        self.ids.slot.add_widget(self.screens)
        if self.tools_class:
            self.ids.header.add_widget(Factory.get(self.tools_class)(), index=1)


class Entries(BoxLayout):
    """A column of `entry_class` widgets (by kv name), one per dict of `entries`, whose keys
    are the widget's properties; made again when the entries change."""

    entries = ListProperty()
    entry_class = StringProperty("")

    def on_entries(self, _: object, entries: list[dict]) -> None:
        """Show the entries as given."""
        self.clear_widgets()
        for entry in entries if self.entry_class else ():
            widget = Factory.get(self.entry_class)()  # a kv class takes properties once made
            for key, value in entry.items():
                setattr(widget, key, value)
            self.add_widget(widget)
