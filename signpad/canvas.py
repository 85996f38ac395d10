"""The touch widgets of the form: the signature box that records strokes with their timing,
and the terms view that draws only the paragraphs in sight and zooms with a pinch."""

import math
import time
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.graphics import Color, Line
from kivy.input import MotionEvent
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty
from kivy.uix.recycleview import RecycleView
from kivy.uix.recycleview.views import RecycleDataViewBehavior
from kivy.uix.widget import Widget

from edge_common.protocol.forms import Point, Stroke
from patron_ui.widgets import DataLabel
from signpad.flow import TOTAL_POINTS

MAX_STROKES, MAX_POINTS = 500, 5_000  # what forms.Signature accepts


class SignatureBox(Widget):
    """Records each finger or stylus stroke as (x, y, t ms) points, x and y in pixels from the
    box's lower left corner, t from the signer's first touch; draws each stroke as one Line."""

    ink = ListProperty([0, 0, 0.35, 1])
    drawn = BooleanProperty(False)

    def __init__(self, clock: Callable[[], float] = time.monotonic, **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.strokes: list[Stroke] = []
        self._lines: dict[int, tuple[Stroke, Line]] = {}
        self._began: float | None = None
        self._count = 0

    def _point(self, touch: MotionEvent) -> Point:
        x = min(max(0, round(touch.x - self.x)), max(0, round(self.width)))
        y = min(max(0, round(touch.y - self.y)), max(0, round(self.height)))
        began = self._began if self._began is not None else self.clock()
        return x, y, min(3_600_000, round((self.clock() - began) * 1000))

    def on_touch_down(self, touch: MotionEvent) -> bool:
        """A stroke begins inside the box."""
        if not self.collide_point(*touch.pos) or len(self.strokes) >= MAX_STROKES or (
                self._count >= TOTAL_POINTS):
            return bool(super().on_touch_down(touch))
        App.get_running_app().on_touch_anywhere()
        if self._began is None:
            self._began = self.clock()
        touch.grab(self)
        stroke: Stroke = [self._point(touch)]
        self.strokes.append(stroke)
        self._count += 1
        with self.canvas:
            Color(*self.ink)
            line = Line(points=[touch.x, touch.y], width=dp(2.2), cap="round", joint="round")
        self._lines[touch.uid] = (stroke, line)
        self.drawn = True
        return True

    def on_touch_move(self, touch: MotionEvent) -> bool:
        """The stroke goes on (points outside the box are kept on its edge)."""
        if touch.grab_current is not self or touch.uid not in self._lines:
            return bool(super().on_touch_move(touch))
        stroke, line = self._lines[touch.uid]
        point = self._point(touch)
        if len(stroke) < MAX_POINTS and self._count < TOTAL_POINTS and (
                point[:2] != stroke[-1][:2]):
            stroke.append(point)
            self._count += 1
            line.points = [*line.points, self.x + point[0], self.y + point[1]]
        return True

    def on_touch_up(self, touch: MotionEvent) -> bool:
        """The stroke ends."""
        if touch.grab_current is not self:
            return bool(super().on_touch_up(touch))
        touch.ungrab(self)
        self._lines.pop(touch.uid, None)
        return True

    def clear(self) -> None:
        """Forget every stroke: the signer starts again."""
        self.strokes = []
        self._lines.clear()
        self._began = None
        self._count = 0
        self.canvas.clear()
        self.drawn = False


class TermsPiece(RecycleDataViewBehavior, DataLabel):
    """One paragraph, or a chunk of a long one, of the terms: its own small texture."""

    size_sp = NumericProperty(24)
    opens = BooleanProperty(True)  # begins a paragraph: space above it

    def refresh_view_layout(self, rv: RecycleView, index: int, layout: dict,
                            viewport: Any) -> None:
        """Placed by the view: as high as its text (a reused piece whose texture kept its
        height would otherwise keep the layout's guess)."""
        super().refresh_view_layout(rv, index, layout, viewport)
        self.texture_update()
        self.height = self.texture_size[1]


class TermsView(RecycleView):
    """The terms as paragraphs (`pieces`), only those in sight drawn (each its own texture, so
    no length reaches the GL texture limit); two fingers pinch the text size (`size_sp`, sp)
    larger or smaller."""

    pieces = ListProperty()
    size_sp = NumericProperty(24)
    smallest = NumericProperty(16)
    largest = NumericProperty(56)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._fingers: dict[int, tuple[float, float]] = {}
        self._pinch: tuple[float, float] | None = None  # distance and size when it began
        self.bind(pieces=self._refill, size_sp=self._refill)

    def _refill(self, *_: object) -> None:
        """The pieces at the current size (each piece's height follows its text)."""
        self.data = [{"text": p.text, "opens": p.opens, "size_sp": self.size_sp}
                     for p in self.pieces]

    def zoom(self, factor: float) -> None:
        """Make the text `factor` times larger, within bounds."""
        self.size_sp = min(self.largest, max(self.smallest, self.size_sp * factor))

    def _spread(self) -> float:
        (ax, ay), (bx, by) = list(self._fingers.values())[:2]
        return max(1.0, math.hypot(ax - bx, ay - by))

    def on_touch_down(self, touch: MotionEvent) -> bool:
        """A second finger starts a pinch."""
        if self.collide_point(*touch.pos):
            self._fingers[touch.uid] = touch.pos
            if len(self._fingers) == 2:
                self._pinch = (self._spread(), self.size_sp)
                touch.grab(self)
                return True
        return bool(super().on_touch_down(touch))

    def on_touch_move(self, touch: MotionEvent) -> bool:
        """While pinching, the text follows the fingers' spread."""
        if touch.uid in self._fingers:
            self._fingers[touch.uid] = touch.pos
            if self._pinch is not None and len(self._fingers) >= 2:
                spread, size = self._pinch
                self.size_sp = min(self.largest, max(self.smallest,
                                                     size * self._spread() / spread))
                return True
        return bool(super().on_touch_move(touch))

    def on_touch_up(self, touch: MotionEvent) -> bool:
        """A finger lifts: the pinch ends."""
        self._fingers.pop(touch.uid, None)
        if len(self._fingers) < 2:
            self._pinch = None
        if touch.grab_current is self:
            touch.ungrab(self)
            return True
        return bool(super().on_touch_up(touch))
