"""Running a daemon until a signal: stop runs on every path, also after a half-way start."""

import os
import signal
import subprocess
import sys
import threading

import pytest

from edge_common.daemon_cli import run_until_stopped
from tests.harness import wait_for, write_central_toml
from tests.locks import build_lock

SIGNALS = (signal.SIGTERM, signal.SIGINT)


def test_a_signal_ends_serving_then_stop_runs_and_the_old_handlers_come_back():
    before = [signal.getsignal(s) for s in SIGNALS]
    calls = []
    run_until_stopped(lambda: (calls.append("start"), os.kill(os.getpid(), signal.SIGTERM)),
                      lambda: calls.append("stop"))
    assert calls == ["start", "stop"]
    assert [signal.getsignal(s) for s in SIGNALS] == before


def test_a_serving_loop_of_its_own_is_ended_by_interrupt():
    ended = threading.Event()
    calls = []
    run_until_stopped(lambda: os.kill(os.getpid(), signal.SIGINT), lambda: calls.append("stop"),
                      serve=lambda: calls.append(ended.wait(10)), interrupt=ended.set)
    assert calls == [True, "stop"]


@pytest.mark.parametrize("part", ["link", "reader"])
def test_a_start_that_fails_half_way_still_stops_what_it_started(net, tmp_path, part):
    before = set(threading.enumerate())
    lock = build_lock(net, tmp_path)

    def broken(*args):
        raise OSError(f"{part} broken")

    if part == "link":       # the runtime's coordinator is up, lockd's own thread is not
        lock.runtime.link.start = broken
    else:                    # the runtime and lockd's thread are up, the readers are not
        lock.doors["wc"].readers["in"].start = broken
    with pytest.raises(OSError, match=f"{part} broken"):
        run_until_stopped(lock.start, lock.stop)
    left = {t.name for t in set(threading.enumerate()) - before}
    assert left.isdisjoint({"lockd", "coord-lock-1", "mqtt-lock-1"}), left


def test_central_stops_on_sigterm_and_exits_0(net, tmp_path):
    conf = write_central_toml(net.broker, net.store, tmp_path / "central.toml")
    dev = net.device("lock-1")
    dev.start()
    proc = subprocess.Popen([sys.executable, "-m", "central.service", "--config", str(conf)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: dev.central_up, what="central serving")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert "Traceback" not in out
        wait_for(lambda: not dev.central_up, what="central says it is gone")
    finally:
        proc.kill()
        dev.stop()
