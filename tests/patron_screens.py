"""Helpers for the patron-screen tests of every device: a catalogue's completeness and a tour
of the screens run offscreen in a subprocess."""

import os
import string
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po


def fields(text: str) -> set[str]:
    """The placeholders of a text."""
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def untranslated(po: Path, texts: set[str]) -> list[str]:
    """What the catalogue at `po` lacks: missing or empty texts, and placeholders that differ."""
    with po.open("rb") as fh:
        cat = read_po(fh)
    ids = {m.id for m in cat if m.id}
    problems = [f"missing {t!r}" for t in sorted(texts - ids)]
    problems += [f"untranslated {m.id!r}" for m in cat if m.id and not m.string]
    problems += [f"placeholders of {m.id!r}" for m in cat
                 if m.id and m.string and fields(m.string) != fields(m.id)]
    return problems


def tour(module: str, out: Path, mode: str) -> Path:
    """Run `python -m MODULE --out OUT --mode MODE` offscreen; fail on a failed step, a cut-off
    label or a traceback; keep its stdout in OUT/stdout.txt."""
    env = os.environ | {"SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(out / ".kivy")}
    run = subprocess.run([sys.executable, "-m", module, "--out", str(out), "--mode", mode],
                         capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-3000:]  # a step failed or a label was cut off
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    (out / "stdout.txt").write_text(run.stdout)
    return out


def unfit_shots(folder: Path, prefix: str, screens: list[str],
                size: tuple[int, int]) -> list[str]:
    """The shots of every language that are missing, of another size or blank."""
    from PIL import Image

    from edge_common.catalogues import LANGUAGES

    problems = []
    for lang in LANGUAGES:
        for screen in screens:
            image = Image.open(folder / f"{lang}-{prefix}{screen}.png").convert("RGB")
            if image.size != size or max(hi - lo for lo, hi in image.getextrema()) <= 100:
                problems.append(f"{lang}-{screen}: {image.size}, {image.getextrema()}")
    return problems
