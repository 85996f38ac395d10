"""The project's lint rules themselves: what `make lint` is expected to catch."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLIND = """import logging

log = logging.getLogger(__name__)


def step(fn):
    try:
        fn()
    except Exception as exc:{marker}
        log.warning("step failed: %s", exc)
"""


def lint(source: str) -> subprocess.CompletedProcess:
    """ruff with the project's config on `source`, as if it were a module of the kiosk."""
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache",
                           "--stdin-filename", str(ROOT / "kiosk" / "blind.py"), "-"],
                          input=source, capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_a_blind_except_is_flagged_so_noqa_markers_mean_something():
    run = lint(BLIND.format(marker=""))
    assert run.returncode == 1 and "BLE001" in run.stdout, run.stdout + run.stderr
    run = lint(BLIND.format(marker="  # noqa: BLE001 - a justified broad catch"))
    assert run.returncode == 0, run.stdout + run.stderr
