"""Run offscreen by test_returnbox_display: the display as a daemon wires it. A view is shown
before the window exists, the coordinator's thread shows more and taps arrive from Kivy's
thread, then that thread closes the display and `run()` returns; prints what it saw as JSON."""

import json
import sys
import threading
from collections.abc import Callable

from returnbox.display import KivyDisplay, Layout
from returnbox.views import Action, ReturnedItem, View


def main() -> None:
    """Show, tap, close from another thread; report."""
    display = KivyDisplay(Layout(library="Probe", width=640, height=400))
    taps: list[Action] = []
    screens: list[str] = []
    display.start(taps.append)
    display.show(View("closed", code="reader_lost"))  # before the window: drawn when it is up
    app = display.app

    def coordinator() -> None:
        def showing(screen: str) -> Callable[[], bool]:
            return lambda: app.root is not None and app.screens.current == screen

        until(showing("closed"))
        screens.append(app.screens.current)
        display.show(View("taken", items=(ReturnedItem("1", "T", "reshelve", "A"),)))
        until(showing("taken"))
        screens.append(app.screens.current)
        from kivy.clock import Clock

        Clock.schedule_once(lambda dt: app.act("finish_none"), 0)
        until(lambda: bool(taps))
        display.close()

    def until(condition):
        for _ in range(500):
            if condition():
                return
            threading.Event().wait(0.02)
        raise SystemExit(f"timed out; screens {screens}")

    threading.Thread(target=coordinator, daemon=True).start()
    display.run()  # returns when the coordinator closes the display
    print(json.dumps({"screens": screens, "taps": [[t.kind, t.arg] for t in taps],
                      "thread": threading.current_thread() is threading.main_thread()}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
