"""The signing pad's footprint: its memory after signing forms, beside a bare Kivy app, and
the size of a sealed form's PDF against the 300 kB limit.

The pad is the real daemon (sample backend, Kivy under SDL's offscreen driver, 1280×800)
driven through whole forms with finger strokes (bench/signpad_probe.py); the reference is the
bare Kivy app bench_kiosk uses (bench/theme_probe.py --bare). The PDF is rendered for a form
with long terms and two signatures: one as a finger makes it, and the largest the pad accepts.
"""

import json
import math
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.bench_kiosk import started
from bench.common import median, report
from edge_common.protocol.forms import Signature
from signpad.flow import TOTAL_POINTS
from signpad.pdf import render
from tests.signpad_forms import form


def config(root: Path) -> Path:
    """The pad's TOML: the sample backend, a simulated card reader, a 1280×800 window."""
    path = root / "signpad.toml"
    path.write_text(f"""[device]
id = "pad-bench"\nsite = "main"\nkind = "signpad"\ndata_dir = "{root / 'data'}"
card_key = "{'ab' * 32}"
[pad]\nbackend = "simulated"\nfullscreen = false\nthanks_for = 60.0
[card_reader]\nkind = "sim"\nsocket = "{root / 'card.sock'}"
""")
    return path


def signature(signer: str, strokes: int, points: int) -> Signature:
    """A wavy signature on a 1248×520 box."""
    return Signature(signer=signer, width=1248, height=520,  # type: ignore[arg-type]
                     strokes=[[(30 + round(i * 1180 / points), 260 + round(
                         200 * math.sin(i / 6 + s)), i * 16) for i in range(points)]
                              for s in range(strokes)])


def pdf_sizes() -> tuple[int, int]:
    """Bytes of a form's PDF signed as a finger does, and with the most points accepted."""
    at = datetime(2026, 12, 1, tzinfo=UTC)
    usual = render(form(), [signature("patron", 8, 120), signature("guardian", 6, 120)], at, "p")
    most = render(form(), [signature("patron", TOTAL_POINTS // 1000, 1000),
                           signature("guardian", TOTAL_POINTS // 1000, 1000)], at, "p")
    return len(usual), len(most)


def measure(rounds: int) -> dict:
    """One run of the pad and of the bare reference."""
    env = os.environ | {"SDL_VIDEODRIVER": "offscreen", "KIVY_NO_CONSOLELOG": "1",
                        "KIVY_LOG_MODE": "MIXED"}
    with tempfile.TemporaryDirectory() as tmp:
        env["KIVY_HOME"] = str(Path(tmp) / ".kivy")
        probe = subprocess.run([sys.executable, "-m", "bench.signpad_probe",
                                str(config(Path(tmp))), str(rounds)],
                               env=env, capture_output=True, text=True, timeout=900)
        if probe.returncode:
            raise RuntimeError(probe.stderr[-3000:])
        got = json.loads(probe.stdout.strip().splitlines()[-1])
        _, bare_rss = started([sys.executable, "-m", "bench.theme_probe", "--bare"], "ready",
                              env, "stdout")
    return {"rss": got["rss_mb"], "idle_rss": got["idle_rss_mb"], "bare_rss": bare_rss,
            "peak_rss": got["peak_rss_mb"], "peak_screen": got["peak_screen"],
            "tour_pdf": max(got["pdf_bytes"]), "forms": len(got["pdf_bytes"])}


def main(quick: bool = False) -> None:
    """Medians over several runs."""
    runs = [measure(3 if quick else 12) for _ in range(1 if quick else 3)]
    print("signpad RSS highest on the screens:", ", ".join(r["peak_screen"] for r in runs))

    def med(key: str) -> float:
        return median([r[key] for r in runs])

    report(f"signpad RSS after {int(med('forms'))} signed forms", med("rss"), "MB",
           med("bare_rss"), "bare Kivy app, same window", "≤ 200 MB", med("rss") <= 200)
    report("signpad RSS, highest while the forms are signed (every 0.1 s)", med("peak_rss"), "MB",
           med("bare_rss"), "bare Kivy app, same window", "≤ 200 MB", med("peak_rss") <= 200)
    report("signpad RSS idle after start", med("idle_rss"), "MB", med("bare_rss"),
           "bare Kivy app, same window", "-", True)
    usual, most = pdf_sizes()
    report("signed form PDF, long terms, two finger signatures", usual / 1000, "kB", 300,
           "the limit", "≤ 300 kB", usual <= 300_000)
    report(f"signed form PDF, two signatures of {TOTAL_POINTS:,} points (the most accepted)",
           most / 1000, "kB", 300, "the limit", "≤ 300 kB", most <= 300_000)
    report("signed form PDF made in the tour (sample form)", med("tour_pdf") / 1000, "kB", 300,
           "the limit", "≤ 300 kB", med("tour_pdf") <= 300_000)


if __name__ == "__main__":
    main("--quick" in sys.argv)
