"""Drive the signing pad's UI through every screen in every language with real touches (a
signature drawn with finger strokes included); save PNGs and report every label that does
not fit its box.

`python -m signpad.screenshots --out DIR [--mode normal|contrast|large]` (set
SDL_VIDEODRIVER=offscreen without a display). Exits 1 when a step fails, a label overflows
or the signed forms are not what was drawn.
"""

import base64
import dataclasses
import math
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click
import msgspec

from edge_common.catalogues import LANGUAGES
from patron_ui import tour as touring

if TYPE_CHECKING:
    from kivy.uix.widget import Widget

    from signpad.app import SignpadApp
    from signpad.canvas import TermsView
    from signpad.simulator import SimulatedPad

WAVE = [(0.1 + 0.8 * i / 40, 0.45 + 0.25 * math.sin(i / 3)) for i in range(41)]
CROSS = [(0.3, 0.3), (0.7, 0.7)]


def pinch(w: "Widget", spread: float = 120) -> None:
    """Two real fingers on the widget's middle, moving apart by `spread` pixels each."""
    from kivy.tests.common import UnitTestTouch

    cx, cy = w.to_window(*w.center)
    a, b = UnitTestTouch(cx - 30, cy), UnitTestTouch(cx + 30, cy)
    a.touch_down()
    b.touch_down()
    for step in range(1, 7):
        a.touch_move(cx - 30 - spread * step / 6, cy)
        b.touch_move(cx + 30 + spread * step / 6, cy)
    a.touch_up()
    b.touch_up()


def tour(app: "SignpadApp", backend: "SimulatedPad", langs: list[str],
         mode: str) -> Iterator[tuple[Callable[[], object], str | None]]:
    """Steps (action, screenshot name or None) that visit every screen."""
    from signpad.canvas import TermsView
    from signpad.simulator import sample_form

    pad = app.pad

    def press(key: str) -> Callable[[], None]:
        return lambda: touring.press(app.screens.current_screen, app.t[key])

    def draw(points: list[tuple[float, float]]) -> Callable[[], None]:
        return lambda: touring.stroke(app.box, points)

    def expect(condition: Callable[[], bool], problem: str) -> Callable[[], None]:
        return lambda: touring.expect(condition(), problem)

    sizes: list[float] = []

    def view() -> "TermsView":
        [found] = [w for w in app.screens.current_screen.walk() if isinstance(w, TermsView)]
        return found

    def warn_after(seconds: float) -> None:
        # the account's countdown shows once the patron was idle `seconds` (0: at once); the
        # account lasts longer than the tour stays there
        pad.settings = dataclasses.replace(pad.settings, warning_after=seconds, account_for=300.0)
        app.act(pad.tick)

    def language(lang: str) -> None:
        pad.settings = dataclasses.replace(pad.settings, lang=lang, recheck_every=0.0)
        warn_after(300.0)
        app.act(pad.done)
        app.act(lambda: setattr(pad, "lang", lang))

    def signing(name: str, offline: bool = False) -> Iterator[tuple[Callable[[], object],
                                                                   str | None]]:
        yield press("terms_read"), None
        yield draw(WAVE), None
        yield draw(CROSS), None
        yield expect(lambda: len(app.box.strokes) == 2, "two strokes not captured"), None
        yield (lambda: app.box.clear()), None
        yield expect(lambda: not app.box.strokes, "strokes left after clearing"), None
        yield draw(WAVE), None
        if offline:
            yield (lambda: setattr(backend, "online", False)), None
            yield (lambda: app.act(lambda: None)), f"{name}11-sign-offline"
        else:
            yield (lambda: None), f"{name}08-sign"
        yield (lambda: app.confirm()), None
        yield draw(CROSS), None if offline else f"{name}09-sign-guardian"
        yield (lambda: app.confirm()), f"{name}{'12-thanks-offline' if offline else '10-thanks'}"

    yield (lambda: setattr(app, "contrast", mode == "contrast")), None
    yield (lambda: setattr(app, "large", mode == "large")), None
    for lang in langs:
        name = f"{lang}-{touring.MODES[mode]}"
        yield partial(language, lang), f"{name}01-idle"
        yield (lambda: app.card("04A1B2C3")), None
        yield (lambda: app.act(pad.tick)), f"{name}02-account"
        yield expect(lambda: app.countdown < 0, "a countdown on an account just opened"), None
        yield partial(warn_after, 0.0), f"{name}02-account-warning"
        yield expect(lambda: app.countdown > 0, "no countdown on an idle account"), None
        yield partial(warn_after, 300.0), None
        yield (lambda: touring.press(app.screens.current_screen, app.t["debts"] + "  (2)")), (
            f"{name}02-account-fees")
        yield press("done"), None
        yield partial(setattr, backend, "form", sample_form(lang)), None
        yield (lambda: app.act(lambda: pad.fetch())), f"{name}03-form"
        yield press("wrong"), f"{name}04-correcting"
        yield press("back_to_form"), f"{name}04-form-reported"
        yield expect(lambda: app.fields[0]["reported"] and not any(
            f["reported"] for f in app.fields[1:]), "the reported field is not marked"), None
        yield press("wrong"), None  # the next field: the reported one has no "Wrong" now
        yield expect(lambda: [c.field for c in backend.corrections[-2:]] == ["name", "born"],
                     "the desk did not get both corrections"), None
        yield (lambda: backend.fix("name", "Ana Marija Novak")), None
        yield (lambda: app.act(pad.tick)), f"{name}05-form-fixed"
        yield expect(lambda: any(f["value"] == "Ana Marija Novak" for f in app.fields),
                     "the corrected revision is not shown"), None
        yield press("data_ok"), f"{name}06-terms"
        yield (lambda: sizes.append(view().size_sp)), None
        yield press("larger"), f"{name}07-terms-larger"
        yield expect(lambda: view().size_sp > sizes[-1], "the terms did not grow"), None
        yield (lambda: sizes.append(view().size_sp)), None
        yield (lambda: pinch(view())), None
        yield expect(lambda: view().size_sp > sizes[-1], "a pinch did not zoom the terms"), None
        yield from signing(name)
        yield (lambda: app.act(pad.done)), None
        yield partial(setattr, backend, "form", sample_form(lang)), None
        yield (lambda: app.act(lambda: pad.fetch())), None
        yield press("data_ok"), None
        yield from signing(name, offline=True)
        yield (lambda: setattr(backend, "online", True)), None
        yield partial(backend.messages.update, {lang: touring.LONGEST_MESSAGE}), None
        yield (lambda: app.act(pad.done)), f"{name}13-longest-message"
        yield partial(backend.messages.pop, lang), None


def first_page(pdf: bytes, stem: Path) -> None:
    """Keep a signed form's PDF as STEM.pdf and its first page as STEM.png (pdftoppm)."""
    stem.with_suffix(".pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile",
                    str(stem.with_suffix(".pdf")), str(stem)], check=True, timeout=60)


@click.command()
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for PNGs.")
@click.option("--lang", "langs", multiple=True, help="Languages (default: all).")
@click.option("--mode", type=click.Choice(list(touring.MODES)), default="normal", show_default=True,
              help="Colours and type size: normal, high contrast or large text.")
def main(out: str, langs: tuple[str, ...], mode: str) -> None:
    """Take a screenshot of every signing-pad screen in every language; check every label."""
    touring.window_size(1280, 800)

    from patron_ui.worker import SessionWorker
    from signpad.app import SignpadApp
    from signpad.flow import Pad, Settings
    from signpad.simulator import SimulatedPad
    from signpad.view import PadView

    backend = SimulatedPad()
    backend.form = None
    pad = Pad(backend, "pad-tour", Settings())
    worker = SessionWorker(lambda: None)

    class TourApp(SignpadApp):
        drawn: touring.Drawn[PadView]

        def act(self, step: Callable[[], None]) -> None:
            """Run a flow step, counted until its View has been drawn."""
            super().act(self.drawn.counted(step, self.view))

    app = TourApp(pad, worker, library="Mestna knjižnica")
    app.drawn = touring.Drawn(app.render)
    worker.start()
    chosen = list(langs) or list(LANGUAGES)
    folder = Path(out)
    shots, cut = touring.play(app, tour(app, backend, chosen, mode), folder, app.drawn.settled)
    worker.stop()
    (folder / "signed.json").write_bytes(msgspec.json.encode(backend.signed))
    if backend.signed:
        first_page(base64.b64decode(backend.signed[0].pdf), folder / "form")
    if len(backend.signed) != 2 * len(chosen):
        print(f"signed forms: {len(backend.signed)}, expected {2 * len(chosen)}",
              file=sys.stderr)
        sys.exit(1)
    touring.report(shots, cut)


if __name__ == "__main__":
    main()
