"""Shared pieces of the benchmarks: timing helpers, a report line, and the test network."""

import hashlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.harness import Network, wait_for, write_central_toml  # noqa: E402

RESULTS: list[dict] = []
CACHE = Path(tempfile.gettempdir()) / "libedge-bench"
# Every function that builds a benchmark's data, with a tiny size: the suite runs each
# (tests/test_bench_modules.py), so a builder broken by a schema change is seen at once.
BUILDERS: dict[str, Callable[[Path], None]] = {}


def data_builder(**tiny):
    """Register `fn(path, **size)` as a data builder, run by the suite with the `tiny` size."""

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        BUILDERS[f"{fn.__module__}.{fn.__name__}"] = partial(fn, **tiny)
        return fn

    return register


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


@contextmanager
def network(store: str = ""):
    """A fresh broker and central store in a temporary folder (or on PostgreSQL, `store`)."""
    with tempfile.TemporaryDirectory() as tmp:
        net = Network(Path(tmp), store=store)
        try:
            yield net
        finally:
            net.close()


@contextmanager
def central_process(net: Network):
    """Central's worker as its own process on the network's broker and store, as deployed."""
    config = write_central_toml(net.broker, net.store, net.root / "central.toml")
    with open(net.root / "central.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "central.service", "--config",
                                 str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(30)


def cached_db(name: str, build: Callable[[Path], None], *made_by) -> Path:
    """A central database made once by `build(path)` and reused by later runs.

    `made_by`: the modules whose code shapes the database; any change to them rebuilds it.
    """
    digest = hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in made_by))
    path = CACHE / f"{name}-{digest.hexdigest()[:10]}.db"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        started = time.perf_counter()
        build(tmp)
        tmp.rename(path)
        print(f"built {name} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def copy_db(src: Path, folder: Path) -> Path:
    """A working copy of a cached database, as `folder/central.db` (where Network looks)."""
    dst = folder / "central.db"
    shutil.copyfile(src, dst)
    return dst


def report(name: str, figure: float, unit: str, reference: float | None, ref_name: str,
           target: str, ok: bool, ratio_of_runs: float | None = None) -> None:
    """Print one result beside its reference and target, and keep it for the summary.

    `ratio_of_runs`: the median of each run's own figure/reference, which a busy machine
    moves far less than either; without it, the ratio of the two medians.
    """
    if ratio_of_runs is None and reference:
        ratio_of_runs = figure / reference
    ratio = f"{ratio_of_runs:.2f}×" if ratio_of_runs is not None else "-"
    ref = f"{reference:,.2f} {unit} ({ref_name})" if reference is not None else ref_name
    row = {"name": name, "figure": f"{figure:,.2f} {unit}", "reference": ref, "ratio": ratio,
           "target": target, "verdict": "PASS" if ok else "MISS"}
    RESULTS.append(row)
    print(f"{name}: {row['figure']} | reference {ref} | ratio {ratio} | target {target} | "
          f"{row['verdict']}", flush=True)


def runs(count: int, fn) -> list:
    """Call `fn` `count` times and return its results."""
    return [fn() for _ in range(count)]


__all__ = ["BUILDERS", "CACHE", "Network", "cached_db", "central_process", "copy_db",
           "data_builder", "median", "network", "percentile", "report", "runs", "time", "wait_for"]
