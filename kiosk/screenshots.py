"""Drive the kiosk UI through every screen in every language with real touches; save PNGs.

`python -m kiosk.screenshots --out DIR` (set SDL_VIDEODRIVER=offscreen without a display).
"""

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_USE_DEFAULTCONFIG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")

import click  # noqa: E402

from edge_common.protocol.circulation import LOAN_CHECKOUT_OFFLINE, Checkout

if TYPE_CHECKING:
    from kivy.uix.widget import Widget

    from kiosk.app import KioskApp
    from kiosk.maintenance import Fact
    from kiosk.session import Session


def tour(app: "KioskApp", out: Path,
         langs: list[str]) -> Iterator[tuple[Callable[..., object], str | None]]:
    """Steps (action, screenshot name or None) that visit every screen."""
    s = app.session
    backend = s.backend

    def press(text: str) -> Callable[[], None]:
        return lambda: app.press(text)

    for lang in langs:
        yield (lambda lang=lang: app.language(lang)), f"{lang}-01-idle"
        yield (lambda: app.card("04B2C3D4")), f"{lang}-02-pin"
        for key in ("1", "2", "3", "4"):
            yield press(key), None
        yield press("OK"), None
        yield press(app.t["borrow"]), None
        yield (lambda: app.scan("40001")), None
        yield press(app.t["logout"]), None
        yield (lambda: app.absent(app.t["receipt_email"])), None
        yield press(app.t["receipt_none"]), None
        yield (lambda: app.act(lambda: skip(s))), None
        yield (lambda lang=lang: app.language(lang)), None
        yield (lambda: app.card("04A1B2C3")), f"{lang}-03-account"
        yield press(app.t["borrow"]), None
        yield (lambda: app.scan("40001")), None
        yield (lambda: app.scan("40002")), f"{lang}-04-checkout"
        yield press(app.t["renew"]), None
        yield press(app.t["renew_all"]), f"{lang}-05-renew"
        yield press(app.t["pay"]), f"{lang}-06-pay"
        yield (lambda: setattr(app.session.terminal, "delay", 30)), None
        yield (lambda: app.act(lambda: s.pay(None))), f"{lang}-07-paying"
        yield (lambda: app.act(s.cancel_payment)), None
        yield (lambda: setattr(backend, "online", False)), None
        yield press(app.t["borrow"]), None
        yield (lambda: app.scan("40004")), f"{lang}-08-offline"
        yield (lambda: setattr(backend, "online", True)), None
        yield press(app.t["logout"]), f"{lang}-09-receipt"
        yield press(app.t["receipt_email"]), f"{lang}-10-goodbye"
        yield (lambda: app.act(lambda: skip(s))), None
        yield (lambda lang=lang: app.language(lang)), None
        yield (lambda: app.card("04FF0001")), f"{lang}-11-maintenance"
        yield press(app.t["maint_restart"]), None
        yield press(app.t["maint_restart"]), None  # the second tap confirms
        yield press(app.t["maint_close"]), None
        yield (lambda lang=lang: app.language(lang)), None
        yield (lambda: app.card("DEADBEEF")), f"{lang}-12-unknown-card"
        yield (lambda: setattr(app, "large", True)), None
        yield (lambda: setattr(app, "contrast", True)), f"{lang}-13-accessible"
        yield (lambda: setattr(app, "large", False)), None
        yield (lambda: setattr(app, "contrast", False)), None


def staff_facts(folder: Path) -> Callable[[], list["Fact"]]:
    """Real maintenance facts of a kiosk that has no network: an unstarted runtime and so on."""
    import logging

    from edge_common.config import DeviceSection, MqttConfig, OutboxConfig
    from edge_common.replica import Replicas
    from edge_common.runtime import DeviceRuntime
    from kiosk.maintenance import Maintenance, RecentProblems
    from kiosk.paper import printer_status
    from kiosk.receipt import PrinterConfig

    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    synced = Replicas(str(data / "replica.db"))  # the runtime's file: a list as if synced
    synced.apply("allowlist", [], 42)
    synced.close()
    runtime = DeviceRuntime(
        DeviceSection(id="kiosk-tour", site="main", kind="kiosk", data_dir=str(data),
                      card_key="0" * 64),
        MqttConfig(), OutboxConfig(), version="tour", datasets=["allowlist"])
    runtime.emit(LOAN_CHECKOUT_OFFLINE, Checkout(card="0" * 64, item="40004"))
    problems = RecentProblems()
    logging.getLogger().addHandler(problems)
    logging.getLogger("kiosk.tour").warning("reader %s lost: %s", "scanner", "device closed")
    readers = {"card": "ok", "scanner": "lost"}
    return Maintenance(runtime, lambda: printer_status(PrinterConfig(kind="dummy")), problems,
                       lambda: readers).facts


def skip(session: "Session") -> None:
    """Jump past the goodbye screen (on the session thread)."""
    cast(SkipClock, session.clock).skip = 10  # the tour's session runs on a SkipClock
    session.tick()


class SkipClock:
    """A monotonic clock that a tour can jump forward (to pass the goodbye screen)."""

    def __init__(self) -> None:
        import time

        self._time = time.monotonic
        self.offset = 0.0

    def __call__(self) -> float:
        return self._time() + self.offset

    @property
    def skip(self) -> float:
        return self.offset

    @skip.setter
    def skip(self, seconds: float) -> None:
        self.offset += seconds


@click.command()
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for PNGs.")
@click.option("--lang", "langs", multiple=True, help="Languages (default: all).")
def main(out: str, langs: tuple[str, ...]) -> None:
    """Take a screenshot of every kiosk screen in every language."""
    from kivy.config import Config

    Config.set("graphics", "width", "1280")
    Config.set("graphics", "height", "800")
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    from kiosk.app import KioskApp
    from kiosk.i18n import LANGUAGES
    from kiosk.payment import SimulatedTerminal
    from kiosk.session import Screen, Session, Settings
    from kiosk.simulator import SimulatedBackend
    from kiosk.worker import SessionWorker

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    shots: list[str] = []

    class TourApp(KioskApp):
        submitted = 0
        rendered = 0
        drawn_at = 0

        def act(self, step: Callable[[], None]) -> None:
            """Run a session step, counted until its result has been rendered."""
            self.submitted += 1

            def counted() -> None:
                try:
                    step()
                finally:
                    self._gather()  # what the worker does next, so the render shows the facts
                    Clock.schedule_once(self._rendered, 0)

            super().act(counted)

        def _rendered(self, dt: float) -> None:
            self.render()
            self.rendered += 1
            self.drawn_at = Clock.frames_displayed

        def settled(self) -> bool:
            """Every session step ran and was rendered, and frames were drawn since."""
            return self.rendered == self.submitted and Clock.frames_displayed > self.drawn_at + 1

        def visible(self, text: str) -> "Widget | None":
            """The visible, enabled button labelled `text` on the current screen, or None."""
            for w in self.root.current_screen.walk():
                if getattr(w, "text", None) == text and hasattr(w, "trigger_action") and (
                        w.width > 0 and w.height > 0 and w.opacity > 0 and not w.disabled):
                    return w
            return None

        def press(self, text: str) -> None:
            """A real touch on the visible button labelled `text`."""
            w = self.visible(text)
            if w is None:
                seen = [(w.text, w.width, w.opacity) for w in self.root.current_screen.walk()
                        if hasattr(w, "trigger_action")]
                raise LookupError(f"no button {text!r} on {self.root.current}: {seen}")
            touch = UnitTestTouch(*w.to_window(*w.center))
            touch.touch_down()
            touch.touch_up()

        def absent(self, text: str) -> None:
            """Fail unless the receipt screen shows no button labelled `text`."""
            if self.root.current != Screen.RECEIPT or self.visible(text) is not None:
                s = self.session
                raise AssertionError(f"{text!r} offered on {self.root.current} (session: "
                                     f"{s.screen}, {s.notice}, borrowed {len(s.borrowed)})")

    clock = SkipClock()
    backend = SimulatedBackend()
    session = Session(backend, SimulatedTerminal(delay=0.05), lambda sess: None,
                      Settings(library="Mestna knjižnica", branch="Bežigrad"), clock=clock,
                      on_restart=lambda: print("restart requested", flush=True))
    worker = SessionWorker(session.tick)
    app = TourApp(session, worker, status=staff_facts(folder))
    worker.start()
    chosen = list(langs) or list(LANGUAGES)
    steps = tour(app, folder, chosen)

    def shoot(name: str) -> None:
        def on_flip(*_: object) -> None:
            Window.unbind(on_flip=on_flip)
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
            if app.settled():
                then()
            else:
                Clock.schedule_once(check, 0.05)
        Clock.schedule_once(check, 0.15)

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
    print("\n".join(shots))
    if len(backend.receipts) != len(chosen):
        print(f"e-mailed receipts: {len(backend.receipts)}, expected {len(chosen)}",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
