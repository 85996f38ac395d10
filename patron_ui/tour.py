"""Tours of a patron app offscreen: steps with real touches, a PNG after each named step, and
every label the fit check finds cut off (the kiosk's, the signing pad's and the return box's
screenshots).

Import it before Kivy: it sets Kivy's environment for a headless run (set SDL_VIDEODRIVER=
offscreen without a display).
"""

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_USE_DEFAULTCONFIG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")

if TYPE_CHECKING:
    from kivy.app import App
    from kivy.uix.widget import Widget

V = TypeVar("V")
MODES = {"normal": "", "contrast": "hc-", "large": "large-"}  # mode → file name prefix
Step = tuple[Callable[[], object], str | None]  # what to do, and the screenshot after it
# a message of the day at its longest, for the fit check
LONGEST_MESSAGE = ("The library is closed on 24, 25 and 26 December and on 1 January. "
                   "Books due on those days are due on the next opening day without a late "
                   "fee. The reading room on the second floor is open until 22:00 during the "
                   "exam period. Ask at the desk about our new e-book lending service and the "
                   "summer reading club.")[:300]


def window_size(width: int, height: int) -> None:
    """Set the window's size before Kivy creates it."""
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))


def visible(screen: "Widget", text: str) -> "Widget | None":
    """The visible, enabled button labelled (or keyed) `text` on `screen`, or None."""
    for w in screen.walk():
        if text in (getattr(w, "text", None), getattr(w, "key", None)) and hasattr(
                w, "trigger_action") and (w.width > 0 and w.height > 0 and w.opacity > 0
                                          and not w.disabled):
            return w
    return None


def press(screen: "Widget", text: str) -> None:
    """A real touch on the visible button labelled `text` on `screen`."""
    w = visible(screen, text)
    if w is None:
        seen = [(b.text, b.width, b.opacity) for b in screen.walk() if hasattr(b, "trigger_action")]
        raise LookupError(f"no button {text!r} on {getattr(screen, 'name', screen)}: {seen}")
    touch(w)


def touch(w: "Widget") -> None:
    """Touch the middle of a widget, down and up."""
    from kivy.tests.common import UnitTestTouch

    t = UnitTestTouch(*w.to_window(*w.center))
    t.touch_down()
    t.touch_up()


def stroke(w: "Widget", points: list[tuple[float, float]]) -> None:
    """A real finger stroke through `points` (fractions of the widget's width and height)."""
    from kivy.tests.common import UnitTestTouch

    def at(fx: float, fy: float) -> tuple[float, float]:
        return w.to_window(w.x + fx * w.width, w.y + fy * w.height)
    t = UnitTestTouch(*at(*points[0]))
    t.touch_down()
    for fx, fy in points[1:]:
        t.touch_move(*at(fx, fy))
    t.touch_up()


def expect(condition: bool, problem: str) -> None:
    """Fail the tour unless `condition` holds."""
    if not condition:
        raise AssertionError(problem)


class Drawn(Generic[V]):
    """Counts a tour's steps until the View each one leaves is drawn, so that a screenshot never
    shows an older View (the app's own redraw may reach Kivy frames later)."""

    def __init__(self, render: Callable[[V], None]) -> None:
        self.render = render
        self.submitted = self.rendered = self.drawn_at = 0

    def counted(self, step: Callable[[], None], view: Callable[[], V]) -> Callable[[], None]:
        """`step` counted; on the worker thread, it then reads its View for Kivy to draw."""
        from kivy.clock import Clock

        self.submitted += 1

        def run() -> None:
            try:
                step()
            finally:
                shown = view()
                Clock.schedule_once(lambda dt: self._draw(shown), 0)
        return run

    def _draw(self, view: V) -> None:
        from kivy.clock import Clock

        self.render(view)
        self.rendered += 1
        self.drawn_at = Clock.frames_displayed

    def settled(self) -> bool:
        """Every step ran and its View was drawn, and frames were drawn since."""
        from kivy.clock import Clock

        return self.rendered == self.submitted and Clock.frames_displayed > self.drawn_at + 1


def play(app: "App", steps: Iterator[Step], folder: Path,
         settled: Callable[[], bool]) -> tuple[list[str], list[str]]:
    """Run `app` through `steps`; after each step wait until `settled()`, then save the named
    screenshot and check the labels. Returns the shots and the cut-off labels; exits 1 when a
    step fails."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    from patron_ui.fit import overflows

    folder.mkdir(parents=True, exist_ok=True)
    shots: list[str] = []
    cut: list[str] = []

    def shoot(name: str) -> None:
        def on_flip(*_: object) -> None:
            Window.unbind(on_flip=on_flip)
            cut.extend(f"{name}: {problem}" for problem in overflows(app.root, Window.size))
            saved = Window.screenshot(name=str(folder / f"{name}.png"))
            if saved:
                os.replace(saved, folder / f"{name}.png")
                shots.append(name)
            Clock.schedule_once(step, 0)
        Window.bind(on_flip=on_flip)
        Window.canvas.ask_update()

    def when_settled(then: Callable[[], object]) -> None:
        """Run `then` once the UI shows the result of every step so far, however slow."""
        def check(dt: float) -> None:
            # a button shows pressed for a moment after its touch ends: shoot it released
            if settled() and not any(getattr(w, "state", "") == "down"
                                     for w in app.root.walk()):
                then()
            else:
                Clock.schedule_once(check, 0.02)
        Clock.schedule_once(check, 0)

    def step(dt: float) -> None:
        try:
            action, name = next(steps)
        except StopIteration:
            app.stop()
            return
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - report which step failed, then stop
            print(f"tour step failed: {exc!r}", file=sys.stderr)
            app.stop()
            sys.exit(1)
        when_settled(lambda: shoot(name) if name else step(0))

    Clock.schedule_once(step, 1.0)
    app.run()
    return shots, cut


def report(shots: list[str], cut: list[str]) -> None:
    """Print the shots; exit 1 when a label was cut off."""
    print("\n".join(shots))
    if cut:
        print("labels cut off:\n" + "\n".join(cut), file=sys.stderr)
        sys.exit(1)
