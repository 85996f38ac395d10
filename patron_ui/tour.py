"""Drive a patron app offscreen through steps with real touches, shoot the named steps as PNGs
and collect every label the fit check finds cut off (the screenshot tours' shared runner)."""

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch
from kivy.uix.widget import Widget

from patron_ui.fit import overflows

Step = tuple[Callable[[], object], str | None]  # an action, and the screenshot after it


def touch(w: Widget) -> None:
    """A real touch in the middle of a widget, down and up."""
    t = UnitTestTouch(*w.to_window(*w.center))
    t.touch_down()
    t.touch_up()


def stroke(w: Widget, points: list[tuple[float, float]]) -> None:
    """A real finger stroke through `points` (fractions of the widget's width and height)."""
    def at(fx: float, fy: float) -> tuple[float, float]:
        return w.to_window(w.x + fx * w.width, w.y + fy * w.height)
    t = UnitTestTouch(*at(*points[0]))
    t.touch_down()
    for fx, fy in points[1:]:
        t.touch_move(*at(fx, fy))
    t.touch_up()


def button(root: Widget, text: str) -> Widget:
    """The visible, enabled button labelled `text` under `root` (LookupError if none)."""
    for w in root.walk():
        if getattr(w, "text", None) == text and hasattr(w, "trigger_action") and (
                w.width > 0 and w.height > 0 and w.opacity > 0 and not w.disabled):
            return w
    seen = [getattr(w, "text", "") for w in root.walk() if hasattr(w, "trigger_action")]
    raise LookupError(f"no button {text!r}: {seen}")


def run(app: App, steps: Iterator[Step], folder: Path,
        settled: Callable[[], bool]) -> tuple[list[str], list[str]]:
    """Run `app` through `steps`; return the shots taken and the labels found cut off.

    After each action the runner waits until `settled()` (the app shows its result) and no
    button shows pressed, then shoots when the step is named. A failing step prints which
    and exits with 1.
    """
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
