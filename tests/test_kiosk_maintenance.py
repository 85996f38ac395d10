"""Maintenance facts from a real DeviceRuntime on a real broker, and the problem log."""

import logging
import time

import pytest

from edge_common.outbox import Priority
from edge_common.protocol.circulation import LOAN_CHECKOUT_OFFLINE, Checkout
from kiosk.maintenance import Maintenance, RecentProblems
from tests.harness import wait_for


def by_label(facts):
    """The facts keyed by label (one fact per label in these tests)."""
    return {f.label: f for f in facts}


@pytest.fixture
def kiosk(net):
    net.start_central()
    runtime = net.device("kiosk-1", kind="kiosk", datasets=["allowlist"])
    runtime.start()
    wait_for(lambda: runtime.central_up, what="kiosk sees central")
    wait_for(lambda: runtime.synced_at("allowlist"), what="allow-list pulled")
    yield runtime
    runtime.stop()


def test_link_up_then_broker_killed_then_events_queued(net, kiosk):
    clock = {"skew": 0.0}
    problems = RecentProblems()
    maint = Maintenance(kiosk, lambda: "low", problems,
                        clock=lambda: time.time() + clock["skew"])
    up = by_label(maint.facts())
    assert (up["maint_link"].value, up["maint_link"].level) == ("maint_up_since", "ok")
    assert up["maint_device"].params["text"] == "kiosk-1 test"
    assert (up["maint_outbox"].value, up["maint_dropped"].params) == (
        "maint_outbox_empty", {"count": 0})
    assert (up["maint_dataset"].value, up["maint_dataset"].level) == ("maint_version", "ok")
    assert up["maint_dataset"].params["dataset"] == "allowlist"
    assert (up["maint_printer"].value, up["maint_printer"].level) == ("maint_paper_low", "warning")
    assert up["maint_problems"].value == "maint_none_logged"
    went_up = up["maint_link"].params["since"]

    net.broker.kill()
    wait_for(lambda: not kiosk.central_up, what="link down")
    for n in range(3):
        kiosk.emit(LOAN_CHECKOUT_OFFLINE, Checkout(card="c" * 64, item=f"B{n}"),
                   Priority.KEEP)
    down = by_label(maint.facts())
    assert (down["maint_link"].value, down["maint_link"].level) == ("maint_down_since", "warning")
    assert down["maint_link"].params["since"] >= went_up
    assert (down["maint_outbox"].value, down["maint_outbox"].level) == (
        "maint_outbox_waiting", "ok")
    assert down["maint_outbox"].params["count"] == 3

    clock["skew"] = 1000  # the same kiosk, a quarter of an hour later
    later = by_label(maint.facts())
    assert later["maint_link"].level == "error"
    assert later["maint_outbox"].level == "warning"
    assert later["maint_dataset"].level == "ok"
    clock["skew"] = 2 * 86400
    assert by_label(maint.facts())["maint_dataset"].level == "error"


def test_readers_and_a_standalone_kiosk():
    maint = Maintenance(None, lambda: "jammed", RecentProblems(),
                        lambda: {"scanner": "lost", "card": "ok", "nfc": "starting"})
    facts = maint.facts()
    assert (facts[0].label, facts[0].value) == ("maint_link", "maint_standalone")
    readers = [(f.params["name"], f.value, f.level) for f in facts if f.label == "maint_reader"]
    assert readers == [("card", "maint_working", "ok"), ("nfc", "maint_raw", "warning"),
                       ("scanner", "maint_not_working", "error")]
    printer = next(f for f in facts if f.label == "maint_printer")
    assert (printer.value, printer.level, printer.params) == (
        "maint_raw", "warning", {"text": "jammed"})


def test_recent_problems_keep_warnings_without_tracebacks_or_card_numbers():
    problems = RecentProblems(size=3)
    log = logging.getLogger("kiosk.test_problems")
    log.addHandler(problems)
    log.propagate = False  # pytest's own capture handler raises on the broken call below
    try:
        log.info("not a problem")
        log.warning("reader %s lost", "scanner")
        for _ in range(3):
            log.warning("unknown card %s from ana@example.org", "04A1B2C3D4")
        try:
            raise OSError("paper jam")
        except OSError:
            log.exception("printing failed")
        log.error("bad %d", "args")  # a broken log call is not kept and does not raise
    finally:
        log.removeHandler(problems)
        log.propagate = True
    kept = problems.recent()
    assert [(p.level, p.message, p.count) for p in kept] == [
        ("error", "printing failed", 1),
        ("warning", "unknown card … from …", 3),
        ("warning", "reader scanner lost", 1),
    ]
    assert all(p.logger == "kiosk.test_problems" for p in kept)
    facts = Maintenance(None, lambda: "ok", problems).facts()
    logged = [(f.value, f.level) for f in facts if f.label == "maint_logged"]
    assert logged == [("maint_problem", "error"), ("maint_problem_repeated", "warning"),
                      ("maint_problem", "warning")]
