"""A door's Pi with `libedge[lockd]` only, beside the full venv `make` installs: what it takes
on disk, how long lockd takes to start, and how long `libedge tap` takes to start."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_lockd import lock_config, toml
from bench.common import median, network, report, runs, wait_for
from tests import lean_venv

MB = 1e6
FULL = Path(sys.executable)


def lockd_start(python: Path, config: Path, sock: Path) -> float:
    """Seconds from starting `python -m lockd.daemon` until its door's reader listens."""
    sock.unlink(missing_ok=True)
    started = time.perf_counter()
    proc = subprocess.Popen([str(python), "-m", "lockd.daemon", "--config", str(config)],
                            stderr=subprocess.DEVNULL, env=None if python == FULL
                            else lean_venv.env())
    try:
        wait_for(lambda: proc.poll() is not None or sock.exists(), interval=0.005,
                 what="lockd's reader listening")
        took = time.perf_counter() - started
        assert proc.poll() is None, "lockd exited"
        return took
    finally:
        proc.terminate()
        proc.wait(30)


def process_seconds(argv: list[str]) -> float:
    """Seconds a command takes from start to exit (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - started


def main(quick: bool = False) -> None:
    """Build the lean venv, then measure size, lockd start and `libedge tap` start."""
    count = 1 if quick else 5
    full = FULL
    with tempfile.TemporaryDirectory() as tmp:
        lean = lean_venv.build(Path(tmp), "lockd")
        heavy = lean_venv.importable(lean, lean_venv.HEAVY)
        report("lockd-only venv (`libedge[lockd]`) installed size", lean_venv.site_size(lean) / MB,
               "MB", lean_venv.site_size(full) / MB, "the full venv `make` installs",
               "no Kivy, Starlette, pyHanko", not heavy)
        with network() as net:
            config = net.root / "lockd.toml"
            config.write_text(toml(lock_config(net)))
            sock = net.root / "door.sock"
            lean_start = median(runs(count, lambda: lockd_start(lean, config, sock)))
            full_start = median(runs(count, lambda: lockd_start(full, config, sock)))
        report("lockd start to reader listening, lockd-only venv", lean_start, "s", full_start,
               "the same in the full venv", "-", True)
    with tempfile.TemporaryDirectory() as tmp, \
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as reader:
        path = os.path.join(tmp, "door.sock")
        reader.bind(path)  # a reader that takes the tap and never answers (--wait 0)
        tap = median(runs(count, lambda: process_seconds(
            [sys.executable, "-m", "libedge_cli", "tap", "--wait", "0", "--socket", path, "wc",
             "04A1B2C3"])))
        bare = median(runs(count, lambda: process_seconds([sys.executable, "-c",
                                                           "import click"])))
    report("`libedge tap` start to exit", tap, "s", bare, "bare python importing click", "-",
           True)


if __name__ == "__main__":
    main("--quick" in sys.argv)
