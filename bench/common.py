"""Shared pieces of the benchmarks: timing helpers, a report line, and the test network."""

import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.harness import Network, wait_for  # noqa: E402

RESULTS: list[dict] = []


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


@contextmanager
def network():
    """A fresh broker and central store in a temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        net = Network(Path(tmp))
        try:
            yield net
        finally:
            net.close()


def report(name: str, figure: float, unit: str, reference: float | None, ref_name: str,
           target: str, ok: bool) -> None:
    """Print one result beside its reference and target, and keep it for the summary."""
    ratio = f"{figure / reference:.2f}×" if reference else "-"
    ref = f"{reference:,.2f} {unit} ({ref_name})" if reference is not None else ref_name
    row = {"name": name, "figure": f"{figure:,.2f} {unit}", "reference": ref, "ratio": ratio,
           "target": target, "verdict": "PASS" if ok else "MISS"}
    RESULTS.append(row)
    print(f"{name}: {row['figure']} | reference {ref} | ratio {ratio} | target {target} | "
          f"{row['verdict']}", flush=True)


def runs(count: int, fn) -> list:
    """Call `fn` `count` times and return its results."""
    return [fn() for _ in range(count)]


__all__ = ["Network", "median", "network", "percentile", "report", "runs", "time", "wait_for"]
