"""Run offscreen by test_signpad_view: the pad's app wired as the daemon wires it, without a
window; records on which thread each View was built, then draws the queued Views on Kivy's
thread with the Pad made unreadable; prints what was drawn, as JSON."""

import json
import threading

from kivy.clock import Clock  # noqa: E402

import signpad.app  # noqa: E402
from patron_ui import tour as touring  # noqa: F401 - Kivy's environment, before Kivy
from patron_ui.worker import SessionWorker  # noqa: E402
from signpad.app import SignpadApp  # noqa: E402
from signpad.flow import Pad, Settings  # noqa: E402
from signpad.simulator import SimulatedPad  # noqa: E402


class Unreadable:
    """Stands for the Pad while Kivy draws: any read of it is a race with the worker."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the screen read pad.{name} on Kivy's thread")


def main() -> None:
    """Fetch the waiting form and report a field on the worker; draw on this thread."""
    built_on: list[str] = []
    view_of = signpad.app.view_of

    def recording(*args: object) -> object:
        built_on.append(threading.current_thread().name)
        return view_of(*args)  # type: ignore[arg-type]

    signpad.app.view_of = recording  # type: ignore[assignment]
    pad = Pad(SimulatedPad(), "pad-probe", Settings(lang="en"))
    worker = SessionWorker()
    app = SignpadApp(pad, worker, library="Probe library")
    worker.start()
    app.act(lambda: pad.fetch())
    app.act(lambda: pad.wrong("born"))
    screen = worker.call(lambda: pad.screen)   # both steps done and their Views queued
    worker.stop()
    app.pad = Unreadable()  # type: ignore[assignment]
    Clock.tick()
    print(json.dumps({"built_on": sorted(set(built_on)), "screen": screen,
                      "heading": app.heading, "t_ok": app.t["data_ok"],
                      "reported": [f["key"] for f in app.fields if f["reported"]]}))


if __name__ == "__main__":
    main()
