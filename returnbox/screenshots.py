"""Show every return-box screen in every language on the real display (views posted from
another thread, taps as real touches); save PNGs, record the taps' actions, report every label
that does not fit its box.

`python -m returnbox.screenshots --out DIR [--mode normal|contrast|large] [--size 800x480]`
(set SDL_VIDEODRIVER=offscreen without a display). Prints each shot, then each action as
`action KIND ARG`; exits 1 when a step fails or a label overflows.
"""

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from patron_ui import tour as touring
from returnbox.views import Action, BinState, ReturnedItem, Screen, StaffView, View

if TYPE_CHECKING:
    from returnbox.display import KivyDisplay

VISIT = (
    ReturnedItem("31000001", "Ivan Cankar: Na klancu", "hold_shelf", "H",
                 pickup_by=date(2026, 12, 8)),
    ReturnedItem("31000002", "Srečko Kosovel: Integrali", "reshelve", "A", fine=120),
    ReturnedItem("31000003", "Alojz Gradnik: Pisma", "transit", "T"),
    ReturnedItem("31000004", "Karel Čapek: Válka s mloky", "reshelve", "A",
                 warnings=("attachments",)),
    ReturnedItem("31000005", "A book from a neighbouring library", "reject", "",
                 refusal="not_ours"),
)
OFFLINE = tuple(replace(i, queued=True, fine=0, route="sort_later", bin="S", pickup_by=None)
                for i in VISIT[:3])
STAFF = StaffView(
    bins=(BinState("A", 38, 40, False, ("31000002", "31000004", "31000107")),
          BinState("H", 6, 30, False, ("31000001",)),
          BinState("T", 30, 30, True, tuple(f"3100{n:04d}" for n in range(30))),
          BinState("S", 2, 40, False, ("31000011", "31000012")), BinState("R", 0, 40, False)),
    alarms=("T:bin_full", "belt:jam"), sensors=(("entry", False), ("arrival_A", True)),
    outbox=3, online=False, jammed="31000009")


def tour(display: "KivyDisplay", langs: list[str], mode: str,
         show: Callable[[View], None]) -> Iterator[touring.Step]:
    """Steps (action, screenshot name or None) that visit every screen in every language."""
    app = display.app

    def press(text: str) -> Callable[[], None]:
        return lambda: touring.press(app.screens.current_screen, text)

    def pick(code: str) -> Callable[[], None]:
        return lambda: touring.press(app.root, code)

    yield (lambda: setattr(app, "contrast", mode == "contrast")), None
    yield (lambda: setattr(app, "large", mode == "large")), None
    for lang in langs:
        name = f"{lang}-{touring.MODES[mode]}"

        def view(screen: Screen, lang: str = lang, **kw: Any) -> Callable[[], None]:
            return lambda: show(View(screen, lang, **kw))
        yield view("idle"), f"{name}01-idle"
        yield pick(lang.upper()), None  # a tap in the header
        yield view("reading"), f"{name}02-reading"
        yield view("taken", items=VISIT, card=True, email_on_file=True, printer=True), (
            f"{name}03-taken")
        yield press(app.t["receipt_email"]), None
        yield view("taken", items=OFFLINE, offline=True, printer=True), f"{name}04-offline"
        yield press(app.t["receipt_print"]), None
        yield view("taken", items=VISIT[:1]), None
        yield (lambda: touring.expect(touring.visible(app.screens.current_screen,
                                                      app.t["receipt_email"]) is None,
                                      "e-mail offered without a card")), None
        yield press(app.t["receipt_none"]), None
        yield view("rejected", code="in_library_only", items=VISIT), f"{name}05-rejected"
        yield view("rejected", code="no_such_code"), f"{name}06-rejected-unknown"
        yield view("wait", code="jam"), f"{name}07-wait"
        yield view("closed", code="bins_full"), f"{name}08-closed"
        yield view("staff", staff=STAFF, offline=True), f"{name}09-staff"
        yield press(app.t["bin_emptied"]), None
        yield press(app.t["restart_belt"]), None
        yield press(app.t["leave"]), None
        yield view("goodbye", code="receipt_email"), f"{name}10-goodbye"


@click.command()
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for PNGs.")
@click.option("--lang", "langs", multiple=True, help="Languages (default: all).")
@click.option("--mode", type=click.Choice(list(touring.MODES)), default="normal",
              show_default=True, help="Colours and type size: normal, high contrast or large.")
@click.option("--size", default="800x480", show_default=True, help="Window WIDTHxHEIGHT.")
def main(out: str, langs: tuple[str, ...], mode: str, size: str) -> None:
    """Take a screenshot of every return-box screen in every language; check every label."""
    width, height = (int(n) for n in size.split("x"))
    from edge_common.catalogues import LANGUAGES
    from returnbox.display import KivyDisplay, Layout

    display = KivyDisplay(Layout(library="Mestna knjižnica Ljubljana", width=width,
                                 height=height))
    actions: list[Action] = []
    display.start(actions.append)
    drawn = touring.Drawn(display.app.render)

    def show(view: View) -> None:
        """Post the view from another thread, as the coordinator does; counted until drawn."""
        poster = threading.Thread(target=drawn.counted(lambda: display.show(view), lambda: view))
        poster.start()
        poster.join()

    chosen = list(langs) or list(LANGUAGES)
    shots, cut = touring.play(display.app, tour(display, chosen, mode, show), Path(out),
                              drawn.settled)
    print("\n".join(f"action {a.kind} {a.arg or ''}".rstrip() for a in actions))
    touring.report(shots, cut)


if __name__ == "__main__":
    main()
