"""`make bench`: every benchmark, then a Markdown table for the README's performance section."""

import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (  # noqa: E402
    bench_circulation,
    bench_city,
    bench_drain,
    bench_ingest,
    bench_kiosk,
    bench_lean,
    bench_lockd,
    bench_provisioning,
    bench_returnbox,
    bench_returnbox_display,
    bench_returns_central,
    bench_rpc,
    bench_rss,
    bench_signpad,
    bench_signpad_pad,
    bench_web,
)
from bench.common import RESULTS  # noqa: E402

BENCHMARKS = [bench_rpc, bench_drain, bench_ingest, bench_rss, bench_circulation, bench_lockd,
              bench_kiosk, bench_provisioning, bench_web, bench_returns_central, bench_returnbox,
              bench_signpad, bench_signpad_pad, bench_returnbox_display, bench_lean, bench_city]


def main() -> None:
    """Run all benchmarks (`--quick` for a smoke run) and print the summary table."""
    quick = "--quick" in sys.argv
    started = time.perf_counter()
    for bench in BENCHMARKS:
        print(f"\n## {bench.__name__.split('.')[-1]}", flush=True)
        bench.main(quick)
    print(f"\nRun {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
          f"({platform.machine()}, Python {platform.python_version()}), "
          f"{time.perf_counter() - started:.0f} s, `make bench`{' --quick' if quick else ''}:\n")
    print("| benchmark | figure (median) | reference, same run | ratio | target | |")
    print("|---|---|---|---|---|---|")
    for r in RESULTS:
        print(f"| {r['name']} | {r['figure']} | {r['reference']} | {r['ratio']} | "
              f"{r['target']} | {r['verdict']} |")


if __name__ == "__main__":
    main()
