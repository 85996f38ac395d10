"""Helpers for the patron-screen tests of every device: a catalogue's completeness and the tours
of the screens, run offscreen in a subprocess once per test session."""

import os
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.harness import wait_for

# Marks for the UI tests of every app: one xdist worker draws every tour, once; the suite's
# per-test timeout bounds only a test's body (a tour is bounded by its progress, in `tour`).
TOURS = [pytest.mark.xdist_group("patron-tours"), pytest.mark.timeout(func_only=True)]


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
    label or a traceback; keep its stdout in OUT/stdout.txt. It may take as long as it needs
    while it makes progress: only a screenshot that never comes is a failure."""
    env = os.environ | {"SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(out / ".kivy")}

    def shots() -> int:
        return len(list(out.glob("*.png")))
    with (out / "stdout.txt").open("w") as stdout, (out / "stderr.txt").open("w+") as stderr:
        run = subprocess.Popen([sys.executable, "-m", module, "--out", str(out), "--mode", mode],
                               stdout=stdout, stderr=stderr, text=True, env=env)
        try:
            while run.poll() is None:
                seen = shots()
                wait_for(lambda seen=seen: run.poll() is not None or shots() > seen,
                         what=f"{module} --mode {mode}: the screenshot after {seen}")
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        stderr.seek(0)
        errors = stderr.read()
    assert run.returncode == 0, errors[-3000:]  # a step failed or a label was cut off
    assert "Traceback" not in errors, errors[-3000:]
    return out


class Tours:
    """Every patron app's screenshot tours, each drawn once per test session (the UI tests of
    all three apps share one xdist group, so one worker draws them all) and read by any test."""

    def __init__(self, folders: pytest.TempPathFactory) -> None:
        self.folders = folders
        self.drawn: dict[tuple[str, str], Path | AssertionError] = {}

    def shots(self, module: str, mode: str) -> Path:
        """The folder of MODULE's tour in MODE, drawn the first time it is asked for (a tour
        that failed fails every test that reads it, and is not drawn again)."""
        if (module, mode) not in self.drawn:
            folder = self.folders.mktemp(f"{module.split('.')[0]}-{mode}")
            try:
                self.drawn[module, mode] = tour(module, folder, mode)
            except AssertionError as failed:
                self.drawn[module, mode] = failed
        drawn = self.drawn[module, mode]
        if isinstance(drawn, AssertionError):
            raise drawn
        return drawn


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
