"""`libedge` starts light: no heavy library (pyHanko, Kivy, Starlette, fpdf2) is imported until
a command uses it, so no command prints an import-time warning."""

import subprocess
import sys

from central.store import open_store

HEAVY = ("pyhanko", "pyhanko_certvalidator", "kivy", "starlette", "uvicorn", "fpdf",
         "central", "sqlite_utils")  # central too: `libedge tap` on a device needs none of it


def libedge(*args: str) -> subprocess.CompletedProcess:
    """`libedge ARGS` as a new process (`python -m libedge_cli`, what the script runs)."""
    return subprocess.run([sys.executable, "-m", "libedge_cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_help_and_status_print_no_warning(tmp_path):
    db = tmp_path / "central.db"
    open_store(str(db)).close()
    for args in (["--help"], ["status", "--db", str(db)], ["tap", "--help"]):
        run = libedge(*args)
        assert run.returncode == 0, run.stderr
        assert run.stderr == "", (args, run.stderr)


def test_importing_the_cli_imports_no_heavy_library():
    code = ("import sys, libedge_cli.main; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == []
