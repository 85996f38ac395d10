"""The benchmarks are not run by the suite (make bench does), but they must still import:
a module moved or renamed elsewhere breaks them silently otherwise."""

import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("name", sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__"))
def test_every_benchmark_module_imports(name):
    importlib.import_module(f"bench.{name}")


def test_make_bench_runs_every_benchmark():
    from bench.run_all import BENCHMARKS

    assert {b.__name__.split(".")[-1] for b in BENCHMARKS} == {
        p.stem for p in BENCH.glob("bench_*.py")}
