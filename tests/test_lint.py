"""The project's lint rules themselves: what `make lint` is expected to catch."""

import shutil
import subprocess
import sys
import tomllib
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


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter with the project's contracts (pyproject.toml) over the tree at `root`."""
    return subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
                          capture_output=True, text=True, cwd=root, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)})


def test_the_layers_hold_devices_are_independent_and_nothing_cycles():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_a_borrow_sideways_or_upwards_fails_with_the_rule_it_broke(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package in tomllib.loads((ROOT / "pyproject.toml").read_text())[
            "tool"]["importlinter"]["root_packages"]:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "locale", "static"))
    borrow = {"returnbox/cards.py": "from lockd.config import LockdConfig",
              "lockers/compartment.py": "from lockd.door import DoorPins",
              "central/fleet.py": "from kiosk import session",
              "edge_common/files.py": "from patron_ui import worker",
              "provisioning/grant.py": "from central import fleet"}
    for module, line in borrow.items():
        with (tmp_path / module).open("a") as fh:
            fh.write(f"\n{line}  # noqa: E402\n")
    run = lint_imports(tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    said = " ".join(run.stdout.split())
    for rule in ("Devices never import each other BROKEN",
                 "Central and provisioning never import a device or a patron screen BROKEN",
                 "Devices above patron_ui above edge_common BROKEN",
                 "Central above provisioning above edge_common (no cycle between central and "
                 "provisioning) BROKEN", "Contracts: 1 kept, 4 broken",
                 "returnbox is not allowed to import lockd",
                 "lockers is not allowed to import lockd",
                 "central is not allowed to import kiosk",
                 "edge_common is not allowed to import patron_ui",
                 "provisioning is not allowed to import central"):
        assert rule in said, run.stdout
