"""Runs the real signing pad (Kivy offscreen, the sample backend) through whole forms: each is
fetched, checked, read, signed by two signers with finger strokes, sealed; then the account;
each screen stays 1.5 s, a brisk patron's pace.

`python -m bench.signpad_probe CONFIG ROUNDS` prints one JSON line: RSS (MB) idle after start,
the highest seen (sampled every 0.1 s) and on which screen, the highest on each screen, after
the rounds; and each sealed PDF's size in bytes.
"""

import base64
import json
import logging
import math
import sys

from bench.kiosk_probe import rss_mb
from edge_common.config import load
from signpad.config import SignpadConfig
from signpad.daemon import build
from signpad.flow import Screen
from signpad.simulator import sample_form

PACE = 1.5  # seconds a patron spends on a screen at the least (the pad tidies up after 1 s)
# a signature as a finger makes it: 8 strokes of 120 points each
STROKES = [[(0.08 + 0.1 * s + 0.09 * i / 119, 0.5 + 0.3 * math.sin(i / 7 + s)) for i in range(120)]
           for s in range(8)]


def main(config: str, rounds: int) -> None:
    """Sign `rounds` forms and look at one account per round, as a patron would."""
    logging.basicConfig(level=logging.WARNING)
    pad, app = build(load(config, SignpadConfig))
    from kivy.clock import Clock
    from kivy.core.window import Window

    from patron_ui.tour import stroke

    p = pad.pad
    backend = p.backend
    backend.form = None  # type: ignore[attr-defined]  # each round starts its own form
    plan = iter([what for _ in range(rounds) for what in (
        "card", "idle", "form", "terms", "sign", "patron", "guardian", "idle")])
    waiting: dict = {}
    out: dict = {}

    def flipped(*_: object) -> None:
        if waiting and waiting["shown"]():
            waiting.clear()
            Clock.schedule_once(step, PACE)

    def expect(screen: Screen) -> None:
        waiting["shown"] = lambda: app.screens.current == screen.value

    def sample(dt: float) -> None:
        """The highest RSS, and on which screen, every 0.1 s while the forms are signed."""
        rss, screen = rss_mb(), app.screens.current
        if rss > out.get("peak_rss_mb", 0.0):
            out.update(peak_rss_mb=rss, peak_screen=screen)
        peaks = out.setdefault("peak_by_screen", {})
        peaks[screen] = max(peaks.get(screen, 0.0), rss)

    def step(dt: float) -> None:
        what = next(plan, None)
        if "idle_rss_mb" not in out:
            out["idle_rss_mb"] = rss_mb()
            Clock.schedule_interval(sample, 0.1)
        if what is None:
            out.update(rss_mb=rss_mb(), pdf_bytes=[len(base64.b64decode(s.pdf))
                                                   for s in backend.signed])  # type: ignore
            print(json.dumps(out), flush=True)
            app.stop()
            return
        if what == "card":
            expect(Screen.ACCOUNT)
            app.card("04A1B2C3")
        elif what == "idle":
            expect(Screen.IDLE)
            app.act(p.done)
        elif what == "form":
            backend.form = sample_form()  # type: ignore[attr-defined]
            expect(Screen.FORM)
            app.act(lambda: p.fetch())
        elif what == "terms":
            expect(Screen.TERMS)
            app.act(p.data_ok)
        elif what == "sign":
            expect(Screen.SIGN)
            app.act(p.terms_read)
        else:
            for points in STROKES:
                stroke(app.box, points)
            expect(Screen.SIGN if what == "patron" else Screen.THANKS)
            app.confirm()

    Window.bind(on_flip=flipped)
    pad.start()
    Clock.schedule_once(step, 1.0)
    try:
        app.run()
    finally:
        pad.stop()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
