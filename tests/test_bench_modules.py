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


BUILT = ["bench.bench_circulation.build_network", "bench.bench_lockd.build_allowlist",
         "bench.web_data.build"]


def builders() -> dict:
    """Every registered benchmark data builder, after importing every benchmark module."""
    for name in (p.stem for p in BENCH.glob("*.py") if p.stem != "__init__"):
        importlib.import_module(f"bench.{name}")
    from bench.common import BUILDERS

    return BUILDERS


def test_every_benchmark_that_caches_data_registers_its_builder():
    calls = sum(p.read_text().count("cached_db(f") for p in BENCH.glob("bench_*.py"))
    assert sorted(builders()) == BUILT and calls == len(BUILT)


@pytest.mark.parametrize("name", BUILT)
def test_every_data_builder_builds_a_tiny_store(name, tmp_path):
    from central.store import open_store

    builders()[name](tmp_path / "central.db")
    db = open_store(str(tmp_path / "central.db"))
    assert db.execute("SELECT count(*) FROM _migrations").fetchone()[0] > 0
    db.conn.close()
