"""Run offscreen by test_signpad_terms: the real pad shows terms of 2,000 lines, the patron
zooms to the largest size with the "Larger" button and the view is scrolled to the end; prints
how the last paragraph and the pieces in sight were drawn, as JSON, and saves the screen as
PNG (argument: its path)."""

import json
import os
import sys

import msgspec

from patron_ui import tour as touring

touring.window_size(1280, 800)

from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402

from patron_ui.fit import natural_size  # noqa: E402
from patron_ui.worker import SessionWorker  # noqa: E402
from signpad.app import SignpadApp  # noqa: E402
from signpad.canvas import TermsPiece, TermsView  # noqa: E402
from signpad.flow import Pad, Screen, Settings  # noqa: E402
from signpad.simulator import SimulatedPad, sample_form  # noqa: E402

LINES = 2000
TERMS = "\n".join(f"{i}. Article {i} of the terms: the member keeps the rules of the library "
                  f"and returns what was borrowed." for i in range(1, LINES + 1))


def main(png: str) -> None:
    """Show the terms, zoom in fully, scroll to the end, report the last paragraph."""
    backend = SimulatedPad()
    backend.form = msgspec.structs.replace(sample_form(), terms=TERMS)
    pad = Pad(backend, "pad-probe", Settings(lang="en"))
    worker = SessionWorker(lambda: None)
    app = SignpadApp(pad, worker)
    report: dict = {}
    state = {"heights": []}

    def view() -> TermsView:
        [found] = [w for w in app.screens.current_screen.walk() if isinstance(w, TermsView)]
        return found

    def start(dt: float) -> None:
        app.act(lambda: pad.fetch())
        app.act(pad.data_ok)
        Clock.schedule_once(zoom, 0.2)

    def zoom(dt: float) -> None:
        if app.screens.current != Screen.TERMS.value or not view().data:
            Clock.schedule_once(zoom, 0.1)
            return
        v = view()
        if v.size_sp < v.largest:
            touring.press(app.screens.current_screen, app.t["larger"])
            Clock.schedule_once(zoom, 0.1)
            return
        report["size_sp"], report["largest"] = v.size_sp, v.largest
        Clock.schedule_once(scroll, 0.1)

    def scroll(dt: float) -> None:
        # the scroll bar pulled to the bottom, again until the measured layout stops growing
        v = view()
        v.scroll_y = 0
        state["heights"].append(v.layout_manager.height)
        if len(state["heights"]) < 3 or state["heights"][-1] != state["heights"][-3]:
            Clock.schedule_once(scroll, 0.1)
            return
        Window.bind(on_flip=shoot)
        Window.canvas.ask_update()

    def shoot(*_: object) -> None:
        Window.unbind(on_flip=shoot)
        v = view()
        last = [w for w in v.layout_manager.children
                if isinstance(w, TermsPiece) and w.text == v.data[-1]["text"]]
        report.update(pieces=len(v.data), content_height=v.layout_manager.height,
                      texture_limit=16384, scroll_y=v.scroll_y, lines=TERMS.count("\n") + 1,
                      last_text=v.data[-1]["text"], drawn=[w.text for w in last])
        if last:
            label = last[0]
            report.update(label_height=label.height, texture_height=label.texture_size[1],
                          natural_height=natural_size(label)[1],
                          box=[*label.to_window(label.x, label.y), label.width, label.height],
                          view=[*v.to_window(v.x, v.y), v.width, v.height])
        report["shown"] = sorted([w.y, w.height, w.texture_size[1]]
                                 for w in v.layout_manager.children)  # bottom to top
        saved = Window.screenshot(name=png)
        if saved:
            os.replace(saved, png)
        print(json.dumps(report), flush=True)
        app.stop()

    worker.start()
    Clock.schedule_once(start, 0.5)
    try:
        app.run()
    finally:
        worker.stop()


if __name__ == "__main__":
    main(sys.argv[1])
