"""Runs the real kiosk (central backend, Kivy offscreen) and times reads until the frame shows them.

`python -m bench.kiosk_probe CONFIG ROUNDS` prints one JSON line: seconds from a card read to
the account screen drawn, and from an item scan to its confirmation drawn, per round. The
cards are `BENCH-CARD-<n>`'s UIDs and the items `K<n>`, made by bench_kiosk.
"""

import json
import logging
import sys
import time

from edge_common.config import load
from edge_common.readers import CardRead
from kiosk.config import KioskConfig
from kiosk.daemon import build
from kiosk.session import Screen


def rss_mb() -> float:
    """This process's resident memory in MB."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS:"))


def uid(n: int) -> str:
    """The city-card UID of bench patron n."""
    return f"04BE{n:08X}"


def main(config: str, rounds: int) -> None:
    """Visit the account and borrow one item per round, timing what the patron sees."""
    logging.basicConfig(level=logging.INFO)
    kiosk, app = build(load(config, KioskConfig))
    from kivy.clock import Clock
    from kivy.core.window import Window

    from patron_ui.widgets import CheckRow

    s = kiosk.session
    times: dict = {"card_to_account": [], "scan_to_confirmation": []}
    plan = iter([(what, n) for n in range(rounds) for what in ("card", "borrow", "scan", "out")])
    waiting: dict = {}

    def flipped(*_):
        if not waiting or not waiting["shown"]():
            return
        if waiting["name"]:
            times[waiting["name"]].append(time.monotonic() - waiting["start"])
        waiting.clear()
        Clock.schedule_once(step, 0)

    def drawn_rows() -> set[str]:
        """The ids of the list rows on the screen now (rows come a frame after the data)."""
        return {w.item_id for w in app.screens.current_screen.walk() if isinstance(w, CheckRow)}

    def expect(shown, name=None, start=0.0):
        waiting.update(shown=shown, name=name, start=start)

    def step(dt):
        try:
            what, n = next(plan)
        except StopIteration:
            print(json.dumps(times | {"rss_mb": rss_mb()}), flush=True)
            app.stop()
            return
        now = time.monotonic()
        times.setdefault("idle_rss_mb", rss_mb())
        if what == "card":
            expect(lambda: app.screens.current == "account" and bool(drawn_rows()),
                   "card_to_account", now)
            kiosk.worker.act(lambda: s.card(uid(n), "uid"))
            return
        if what == "borrow":
            expect(lambda: app.screens.current == "checkout")
            kiosk.worker.act(lambda: s.show(Screen.CHECKOUT))
            return
        if what == "scan":
            expect(lambda: f"K{n}" in drawn_rows() and app.notice, "scan_to_confirmation", now)
            kiosk._scan(CardRead(f"K{n}", "barcode", "bench", now))
            return
        expect(lambda: app.screens.current == "idle")
        kiosk.worker.act(lambda: (s.logout(), s.receipt("none")))

    Window.bind(on_flip=flipped)
    kiosk.start()
    while not kiosk.backend.online:
        time.sleep(0.05)
    Clock.schedule_once(step, 1.0)
    try:
        app.run()
    finally:
        kiosk.stop()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
