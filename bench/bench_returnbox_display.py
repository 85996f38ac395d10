"""The return box's display as its coordinator drives it: a view posted from another thread →
the frame that shows it, and the memory of the display process.

Both in a child process under SDL's offscreen driver at 800×480: `--probe` is the display
(views of the visit, growing to 5 items, between "reading" screens), `--probe --bare` a bare
Kivy label whose text changes the same way (the reference in the same run: what any redraw
costs on this machine's software GL).
"""

import json
import os
import statistics
import subprocess
import sys
import threading
import time

from bench.common import percentile, report

VIEWS = 60


def probe(bare: bool, count: int) -> None:
    """Post `count` changes from a thread, each after the previous one was drawn; print the
    post → flip times (s) and the RSS (MB) as JSON."""
    from bench.bench_rss import rss_mb
    from patron_ui import window

    window.configure(800, 480)
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window

    flipped = threading.Event()
    times: list[float] = []
    Window.bind(on_flip=lambda *_: flipped.set())
    if bare:
        from kivy.uix.label import Label

        label = Label(text="idle")

        class Bare(App):
            """One label."""

            def build(self) -> Label:
                return label

        app: App = Bare()

        def change(n: int) -> None:
            Clock.schedule_once(lambda dt: setattr(label, "text", f"item {n}"), 0)

        def drawn(n: int) -> bool:
            return label.text == f"item {n}"
    else:
        from returnbox.display import KivyDisplay, Layout
        from returnbox.screenshots import VISIT
        from returnbox.views import View

        display = KivyDisplay(Layout(library="Bench library"))
        display.start(lambda action: None)
        app = display.app

        def change(n: int) -> None:
            shown = View("taken", items=VISIT[:n % 5 + 1], printer=True) if n % 2 else View(
                "reading")
            display.show(shown)

        def drawn(n: int) -> bool:
            return display.app.screens.current == ("taken" if n % 2 else "reading")

    def drive() -> None:
        time.sleep(2)  # the window is up and idle
        for n in range(count):
            started = time.perf_counter()
            change(n)
            flipped.clear()
            while not (flipped.wait(5) and drawn(n)):  # Kivy applies, then draws, then flips
                flipped.clear()
            times.append(time.perf_counter() - started)
        print(json.dumps({"times": times, "rss_mb": rss_mb(os.getpid())}), flush=True)
        Clock.schedule_once(lambda dt: app.stop(), 0)

    threading.Thread(target=drive, daemon=True).start()
    app.run()


def measure(count: int, bare: bool) -> dict:
    """One probe run."""
    env = os.environ | {"SDL_VIDEODRIVER": "offscreen", "KIVY_LOG_MODE": "MIXED"}
    run = subprocess.run([sys.executable, "-m", "bench.bench_returnbox_display", "--probe",
                          str(count), *(["--bare"] if bare else [])], env=env,
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(quick: bool = False) -> None:
    """Medians over runs of the display and of the bare label."""
    count = 20 if quick else VIEWS
    rounds = 1 if quick else 3
    box = [measure(count, False) for _ in range(rounds)]
    bare = [measure(count, True) for _ in range(rounds)]

    def med(runs: list[dict], p: float) -> float:
        return statistics.median(percentile(r["times"], p) for r in runs) * 1000

    report("return box: view posted → drawn p50", med(box, 50), "ms", med(bare, 50),
           "bare Kivy label changed → drawn p50", "-", True)
    report("return box: view posted → drawn p99", med(box, 99), "ms", med(bare, 99),
           "bare Kivy label changed → drawn p99", "≤ 100 ms", med(box, 99) <= 100)
    rss = statistics.median(r["rss_mb"] for r in box)
    report("return box: display process RSS", rss, "MB",
           statistics.median(r["rss_mb"] for r in bare), "bare Kivy label, same window", "-",
           True)


if __name__ == "__main__":
    if "--probe" in sys.argv:
        probe("--bare" in sys.argv, int(sys.argv[sys.argv.index("--probe") + 1]))
    else:
        main("--quick" in sys.argv)
