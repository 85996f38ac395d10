"""A signed form from a signing pad until central archived and sealed it (the pad's outbox
acked), beside the raw MQTT 5 round trip of a payload of the same size; the form PDF's size."""

import base64
import sys
import time

from bench.bench_rpc import raw_round_trips
from bench.common import central_process, median, network, percentile, report, wait_for
from central import fleet
from central.circulation import branches, forms, patrons, terms
from central.circulation.store import Store
from edge_common import envelope
from edge_common.protocol import forms as wire
from edge_common.runtime import DeviceRuntime
from tests.circ import install
from tests.harness import device_parts
from tests.signed_forms import signed

PAD = "pad-1"
TARGET_MS = 1000.0
PDF_LIMIT_KB = 300.0


def _acked(pad: DeviceRuntime, timeout: float = 30.0) -> None:
    """Wait (polling each half millisecond) until the pad's outbox is empty."""
    deadline = time.perf_counter() + timeout
    while pad.health().outbox_depth:
        if time.perf_counter() > deadline:
            raise TimeoutError("form.signed not acked")
        time.sleep(0.0005)


def measure(count: int) -> dict[str, float]:
    """Sign and archive `count` forms one after another; times in ms, sizes in kB."""
    with network() as net:
        s = install(Store(net.db), branches=[(net.site, "Main Library")])
        branches.add_staff(s, "boss", "Boss", "admin", [net.site])
        terms.add(s, "2026-1", {"en": "You will return what you borrow. " * 60})
        pid = patrons.add_patron(s, "Novak", "adult", branch=net.site, first_name="Ana",
                                 birth_date="1980-05-01", address="Slovenska 1, Ljubljana",
                                 email="ana@example.org", phone="041 123 456",
                                 library_card="MK001")
        key = fleet.enrol(net.db, PAD, net.site, "signpad")
        pad = DeviceRuntime(*device_parts(net.broker, net.root, PAD, net.site, "signpad",
                                          net.card_key, command_key=key),
                            version="bench")
        pad.commands.route("form_show", lambda args: {})
        with central_process(net):
            pad.start()
            try:
                wait_for(lambda: pad.central_up, what="pad sees central")
                wait_for(lambda: s.scalar("SELECT online FROM device_status WHERE dev = ?",
                                          [PAD]), what="central knows the pad")
                times, sizes, payload = [], [], b""
                for _ in range(count):
                    form_id = forms.start(s, pid, "change", PAD, "boss")["id"]
                    _acked(pad)                   # the form_show command's result went first
                    body = signed(pad.request(wire.FORM_GET, wire.FormRef(form=form_id)))
                    sizes.append(len(base64.b64decode(body.pdf)) / 1000)
                    payload = envelope.encode(envelope.make(wire.FORM_SIGNED.type, PAD, body))
                    started = time.perf_counter()
                    pad.emit(wire.FORM_SIGNED, body)
                    _acked(pad)
                    times.append((time.perf_counter() - started) * 1000)
                    assert forms.form(s, form_id)["state"] == "signed"
            finally:
                pad.stop()
        raw = [t * 1000 for t in raw_round_trips(net, count, payload, b'{"ok":true}')]
    return {"p50": median(times), "p99": percentile(times, 99), "raw50": median(raw),
            "raw99": percentile(raw, 99), "pdf": max(sizes), "payload": len(payload) / 1000}


def main(quick: bool = False) -> None:
    """Medians over several runs."""
    runs = [measure(10 if quick else 100) for _ in range(1 if quick else 3)]

    def med(key: str) -> float:
        return median([r[key] for r in runs])

    print(f"form.signed payload {med('payload'):.1f} kB", flush=True)
    report("signed form submitted → archived and sealed p50", med("p50"), "ms", med("raw50"),
           "raw MQTT 5 round trip, same payload, p50", "-", True)
    report("signed form submitted → archived and sealed p99", med("p99"), "ms", med("raw99"),
           "raw MQTT 5 round trip, same payload, p99", f"≤ {TARGET_MS:.0f} ms",
           med("p99") <= TARGET_MS)
    report("signed form PDF size (fpdf2, DejaVu subset, one signature)", med("pdf"), "kB", None,
           "-", f"≤ {PDF_LIMIT_KB:.0f} kB", med("pdf") <= PDF_LIMIT_KB)


if __name__ == "__main__":
    main("--quick" in sys.argv)
