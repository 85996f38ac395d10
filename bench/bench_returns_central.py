"""Central's side of the return box on the generated network: what keeping the box's held and
shelf lists costs every checkout and return (every branch with devices, against the same
work with no device anywhere), a branch's whole lists for its first device, offline returns
applied per second, and decoding an RFID item tag."""

import random
import tempfile
import time
from pathlib import Path

import msgspec

from bench.bench_circulation import _pairs, _timed, network_db
from bench.common import copy_db, median, percentile, report
from central import fleet
from central.circulation import loans, sites
from central.circulation.store import Store
from central.ingest import Applier, Message
from central.store import open_store
from edge_common import envelope
from edge_common.protocol.returns import LOAN_CHECKIN_OFFLINE
from returnbox import tags


def _circulate(src: Path, count: int, keyed: bool) -> dict:
    """Checkouts then returns of the same copies; with `keyed`, every branch has devices
    (so every change keeps its lists) and offline returns are applied as central's worker
    does."""
    with tempfile.TemporaryDirectory() as tmp:
        s = Store(open_store(str(copy_db(src, Path(tmp)))))
        first: list[float] = []
        if keyed:
            for (branch,) in s.db.execute("SELECT id FROM branches ORDER BY id").fetchall():
                started = time.perf_counter()
                sites.open_site(s.db, branch)
                first.append(time.perf_counter() - started)
        pairs = _pairs(s, count * 3, random.Random(7))
        lent = _timed(lambda p, b, br: loans.checkout(s, p, b, br), pairs[:count])
        back = _timed(lambda p, b, br: loans.checkin(s, b, br), pairs[:count])
        rate = 0.0
        if keyed:
            for p, b, br in pairs[count:count * 2]:
                loans.checkout(s, p, b, br)
            by_branch: dict[str, list[Message]] = {}
            for n, (_, barcode, branch) in enumerate(pairs[count:count * 2]):
                dev = f"box-{branch}"
                if dev not in by_branch:
                    fleet.enrol(s.db, dev, branch, "returnbox")
                env = envelope.make(LOAN_CHECKIN_OFFLINE.type, dev, {
                    "item": barcode, "route": "reshelve", "bin": "shelf"}, seq=n + 1)
                by_branch.setdefault(dev, []).append(
                    Message(dev, "evt", env, envelope.encode(env)))
            messages = [m for ms in by_branch.values() for m in ms]
            applier = Applier(s.db)
            started = time.perf_counter()
            for i in range(0, len(messages), 100):
                applier.apply(messages[i:i + 100])
            rate = len(messages) / (time.perf_counter() - started)
            returned = msgspec.json.encode([b for _, b, _ in pairs[count:count * 2]])
            assert s.scalar("SELECT count(*) FROM loans WHERE returned_at IS NULL AND item_id"
                            " IN (SELECT id FROM items WHERE barcode IN (SELECT value FROM"
                            " json_each(?)))", [returned]) == 0, "offline returns refused"
        s.db.close()
    return {"out": lent, "back": back, "first": first, "rate": rate}


def _decode_times(count: int) -> list[float]:
    memory = tags.encode(tags.ItemTag(item_id="00012345678", country="SI", owner="50001"))
    return _timed(tags.decode, [(memory,)] * count)


def main(quick: bool = False) -> None:
    """Median figures over runs on copies of the same generated network."""
    scale, count, repeats = (0.02, 300, 2) if quick else (1.0, 2000, 3)
    src = network_db(scale)
    plain = [_circulate(src, count, keyed=False) for _ in range(repeats)]
    kept = [_circulate(src, count, keyed=True) for _ in range(repeats)]
    ms = 1000
    for name, key in (("checkout", "out"), ("return", "back")):
        with_lists = median([percentile(r[key], 50) for r in kept]) * ms
        without = median([percentile(r[key], 50) for r in plain]) * ms
        report(f"{name} keeping the box lists p50", with_lists, "ms", without,
               "no device anywhere p50", "≤ 1.5×", with_lists <= 1.5 * without)
    first = median([max(r["first"]) for r in kept])
    report("a branch's whole lists for its first device (largest branch)", first, "s", None,
           "-", "-", True)
    rate = median([r["rate"] for r in kept])
    report("offline returns applied", rate, "/s", None, "-", "-", True)
    decode = percentile(_decode_times(20_000), 99) * 1e6
    report("RFID tag decoded p99", decode, "µs", None, "-", "≤ 100 µs", decode <= 100)


if __name__ == "__main__":
    import sys

    main("--quick" in sys.argv)
