"""Drive the kiosk UI through every screen in every language with real touches; save PNGs
and report every label that does not fit its box.

`python -m kiosk.screenshots --out DIR [--mode normal|contrast|large]` (set
SDL_VIDEODRIVER=offscreen without a display). Exits 1 when a step fails or a label overflows.
"""

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from edge_common.protocol.circulation import LOAN_CHECKOUT_OFFLINE, Checkout
from patron_ui import tour as touring

if TYPE_CHECKING:
    from kivy.uix.widget import Widget

    from kiosk.app import KioskApp
    from kiosk.maintenance import Fact
    from kiosk.session import Session
    from kiosk.simulator import SimulatedBackend
    from patron_ui.widgets import PagedList

MODES = touring.MODES


def tour(app: "KioskApp", langs: list[str],
         mode: str) -> Iterator[tuple[Callable[..., object], str | None]]:
    """Steps (action, screenshot name or None) that visit every screen."""
    s = app.session
    backend = cast("SimulatedBackend", s.backend)  # the tour runs on the sample library

    def press(text: str) -> Callable[[], None]:
        return lambda: app.press(text)

    yield (lambda: setattr(app, "contrast", mode == "contrast")), None
    yield (lambda: setattr(app, "large", mode == "large")), None
    for lang in langs:
        name = f"{lang}-{MODES[mode]}"
        yield (lambda lang=lang: app.language(lang)), f"{name}01-idle"
        yield (lambda: app.card("04B2C3D4")), None
        yield press("1"), f"{name}02-pin"
        for key in ("2", "3", "4"):
            yield press(key), None
        yield press("ok"), None
        yield press(app.t["borrow"]), None
        yield (lambda: app.scan("40001")), None
        yield press(app.t["logout"]), None
        yield (lambda: app.absent(app.t["receipt_email"])), None
        yield press(app.t["receipt_none"]), None
        yield (lambda: app.act(lambda: skip(s))), None
        yield (lambda lang=lang: app.language(lang)), None
        yield (lambda: app.card("04A1B2C3")), f"{name}03-account"
        yield press(app.t["borrow"]), None
        yield (lambda: app.scan("40001")), None
        yield (lambda: app.scan("40002")), f"{name}04-checkout"
        yield (lambda: app.expect(all(p.page == p.pages - 1 for p in app.lists()),
                                  "the newest loan is not shown")), None
        yield (lambda: app.turn_page()), None
        yield (lambda: app.expect(app.turned(), "the list did not turn its page")), (
            f"{name}04-checkout-more")
        yield press(app.t["renew"]), None
        yield (lambda: app.press_row("Ivan Cankar: Na klancu")), None
        yield (lambda: app.expect_chosen(["l1"])), f"{name}05-renew-chosen"
        yield press(app.t["renew_all"]), f"{name}06-renewed"
        yield press(app.t["pay"]), None
        yield press(app.ui["choose_all"]), None
        yield (lambda: app.expect_chosen(["d1", "d2"])), f"{name}07-pay-chosen"
        yield (lambda: setattr(app.session.terminal, "delay", 30)), None
        yield (lambda: app.act(lambda: s.pay(None))), f"{name}08-paying"
        yield (lambda: app.act(s.cancel_payment)), None
        yield (lambda: setattr(backend, "online", False)), None
        yield press(app.t["borrow"]), None
        yield (lambda: app.scan("40004")), f"{name}09-offline"
        yield (lambda: setattr(backend, "online", True)), None
        yield (lambda: setattr(s.clock, "skip", s.settings.warning_after + 1)), None
        yield (lambda: app.act(s.tick)), None
        yield (lambda: app.expect(app.countdown > 0, "no countdown")), f"{name}10-countdown"
        yield press(app.t["logout"]), f"{name}11-receipt"
        yield press(app.t["receipt_email"]), f"{name}12-goodbye"
        yield (lambda: app.act(lambda: skip(s))), None
        yield (lambda lang=lang: app.language(lang)), None
        yield (lambda: app.card("04FF0001")), f"{name}13-maintenance"
        yield press(app.t["maint_restart"]), None
        yield press(app.t["maint_restart"]), None  # the second tap confirms
        yield press(app.t["maint_close"]), None
        yield (lambda lang=lang: app.language(lang)), None
        yield (lambda: app.card("DEADBEEF")), f"{name}14-unknown-card"
        yield (lambda lang=lang: backend.messages.update({lang: touring.LONGEST_MESSAGE})), None
        yield (lambda lang=lang: app.language(lang)), f"{name}15-longest-message"
        yield (lambda lang=lang: backend.messages.pop(lang)), None


def staff_facts(folder: Path) -> Callable[[], list["Fact"]]:
    """Real maintenance facts of a kiosk that has no network: an unstarted runtime and so on."""
    import logging

    from edge_common.config import DeviceSection, MqttConfig, OutboxConfig
    from edge_common.printer import PrinterConfig
    from edge_common.replica import Replicas
    from edge_common.runtime import DeviceRuntime
    from kiosk.maintenance import Maintenance, RecentProblems
    from kiosk.paper import printer_status

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
@click.option("--mode", type=click.Choice(list(MODES)), default="normal", show_default=True,
              help="Colours and type size: normal, high contrast or large text.")
def main(out: str, langs: tuple[str, ...], mode: str) -> None:
    """Take a screenshot of every kiosk screen in every language; check every label fits."""
    touring.window_size(1280, 800)

    from kiosk.app import KioskApp
    from kiosk.i18n import LANGUAGES
    from kiosk.payment import SimulatedTerminal
    from kiosk.session import Screen, Session, Settings
    from kiosk.simulator import SimulatedBackend
    from kiosk.view import KioskView
    from patron_ui.widgets import CheckRow, PagedList
    from patron_ui.worker import SessionWorker

    folder = Path(out)

    class TourApp(KioskApp):
        pages_before: list[int] = []
        drawn: touring.Drawn[KioskView]

        def act(self, step: Callable[[], None]) -> None:
            """Run a session step, counted until its View has been drawn."""
            super().act(self.drawn.counted(step, self.gathered_view))

        def gathered_view(self) -> KioskView:
            """What the worker does after a step (the facts, then the View)."""
            self._gather()
            return self.view()

        def visible(self, text: str) -> "Widget | None":
            """The visible, enabled button labelled `text` on the current screen, or None."""
            return touring.visible(self.screens.current_screen, text)

        def press(self, text: str) -> None:
            """A real touch on the visible button labelled `text` (or a keypad key)."""
            touring.press(self.screens.current_screen, text)

        def press_row(self, title: str) -> None:
            """A real touch on the list row titled `title`."""
            rows = [w for w in self.screens.current_screen.walk()
                    if isinstance(w, CheckRow) and w.title == title]
            if not rows:
                shown = [w.title for w in self.screens.current_screen.walk()
                         if isinstance(w, CheckRow)]
                raise LookupError(f"no row {title!r} on {self.screens.current}: {shown}")
            self.touch(rows[0])

        def lists(self) -> list["PagedList"]:
            """The paged lists on the current screen."""
            return [w for w in self.screens.current_screen.walk() if isinstance(w, PagedList)]

        def expect_chosen(self, ids: list[str]) -> None:
            """Fail unless the list with check boxes shows exactly `ids` chosen, ticked."""
            [chosen] = [w for w in self.lists() if w.choosing]
            ticked = sorted(w.item_id for w in chosen.walk() if isinstance(w, CheckRow)
                            and w.chosen)
            self.expect(sorted(chosen.chosen) == ticked == ids, f"chosen {chosen.chosen}, "
                        f"ticked {ticked}, expected {ids}")

        def turn_page(self) -> None:
            """Touch "back" on a list with pages (it shows the last: the newest loan)."""
            self.pages_before = [p.page for p in self.lists()]
            if any(p.pages > 1 for p in self.lists()):
                self.press(self.ui["previous"])

        def turned(self) -> bool:
            """Whether each list with pages went one page back."""
            return all(p.page == before - 1 or p.pages == 1
                       for p, before in zip(self.lists(), self.pages_before, strict=True))

        expect = staticmethod(touring.expect)
        touch = staticmethod(touring.touch)

        def absent(self, text: str) -> None:
            """Fail unless the receipt screen shows no button labelled `text`."""
            if self.screens.current != Screen.RECEIPT or self.visible(text) is not None:
                s = self.session
                raise AssertionError(f"{text!r} offered on {self.screens.current} (session: "
                                     f"{s.screen}, {s.notice}, borrowed {len(s.borrowed)})")

    clock = SkipClock()
    backend = SimulatedBackend()
    session = Session(backend, SimulatedTerminal(delay=0.05), lambda sess: None,
                      # the countdown, once shown, outlasts the tour's steps however busy the
                      # machine is (15 s were too short under load: the session logged out)
                      Settings(library="Mestna knjižnica", branch="Bežigrad",
                               logout_after=600.0), clock=clock,
                      on_restart=lambda: print("restart requested", flush=True))
    worker = SessionWorker(session.tick)
    facts = staff_facts(folder)
    facts()  # the printer library's first import, before Kivy's loop shares the GIL with it
    app = TourApp(session, worker, status=facts)
    app.drawn = touring.Drawn(app.render)
    worker.start()
    chosen = list(langs) or list(LANGUAGES)
    shots, cut = touring.play(app, tour(app, chosen, mode), folder, app.drawn.settled)
    touring.report(shots, cut)
    if len(backend.receipts) != len(chosen):
        print(f"e-mailed receipts: {len(backend.receipts)}, expected {len(chosen)}",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
