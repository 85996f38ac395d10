"""The parts every device is wired from: one coordinator thread with typed events (a patron
screen's session worker included), and central's commands routed by name."""

import logging
import threading
from concurrent.futures import CancelledError
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from edge_common.command_router import CommandRouter
from edge_common.commands import CommandGuard
from edge_common.coordinator import Coordinator
from edge_common.protocol.commands import Command, sign
from patron_ui.worker import SessionWorker
from tests.harness import wait_for

KEY = b"k" * 32


@dataclass(frozen=True)
class Ping:
    n: int


@dataclass(frozen=True)
class Boom:
    pass


def test_events_run_in_order_on_one_thread_and_a_failing_one_costs_only_itself(caplog):
    """Each posted event reaches its type's handler in order, on the coordinator's thread; a
    tick follows; a handler that raises is logged and the next event still runs."""
    seen, ticks, threads = [], [], set()

    def ping(e):
        seen.append(e.n)
        threads.add(threading.current_thread().name)

    def boom(_):
        raise RuntimeError("a bug")

    c = Coordinator("coord-test", {Ping: ping, Boom: boom}, tick=lambda: ticks.append(len(seen)))
    for n in range(3):
        c.post(Ping(n))
    c.post(Boom())
    c.post(Ping(3))
    c.start()
    try:
        wait_for(lambda: seen == [0, 1, 2, 3] and ticks and ticks[-1] == 4, what="all handled")
        assert threads == {"coord-test"}
        assert "coord-test: handling Boom failed" in caplog.text
        assert c.call(lambda: threading.current_thread().name) == "coord-test"
        with pytest.raises(ZeroDivisionError):
            c.call(lambda: 1 / 0)
    finally:
        c.stop()
    assert not c.alive


def test_a_call_to_a_stuck_coordinator_is_cancelled_and_never_runs_late():
    """A call not started within its timeout raises CancelledError and is never run after."""
    c = Coordinator("coord-stuck", {})
    stuck, ran = threading.Event(), []
    c.start()
    c.soon(stuck.wait)
    try:
        with pytest.raises(CancelledError):
            c.call(lambda: ran.append(1), timeout=0.05)
    finally:
        stuck.set()
    c.call(lambda: None)   # everything posted before this has been handled
    c.stop()
    assert ran == []


def test_a_patron_screen_runs_its_steps_on_a_coordinator_with_a_redraw_after_each(caplog):
    """The kiosk's and the pad's session worker is a Coordinator: steps run in order on its
    thread, each followed by the redraw; a failing step or redraw is logged and costs only
    itself; the tick comes between steps, redrawn too; `call` sees what the steps before it
    left."""
    done, redraws, ticks = [], [], []

    def redraw():
        redraws.append(len(done))
        if len(redraws) == 1:
            raise RuntimeError("a redraw bug")

    worker = SessionWorker(tick=lambda: ticks.append(len(done)), every=0.05)
    worker.after_each = redraw
    worker.act(lambda: done.append(threading.current_thread().name))
    worker.act(lambda: 1 / 0)
    worker.act(lambda: done.append(2))
    worker.start()
    try:
        assert worker.call(lambda: list(done)) == ["patron-session", 2]
        assert redraws[:3] == [1, 1, 2]
        wait_for(lambda: ticks and len(redraws) > 3, what="a tick and its redraw")
        assert ticks[0] == 2 and redraws[3] == 2
    finally:
        worker.stop()
    assert not worker.coordinator.alive
    assert "patron-session: handling Act failed" in caplog.text
    assert "ZeroDivisionError" in caplog.text and "RuntimeError: a redraw bug" in caplog.text


def command(name: str, nonce: str, **args) -> dict:
    """A command for dev-1 signed with its key, as central sends it."""
    cmd = Command(dev="dev-1", name=name, nonce=nonce, args=args,
                  expires=datetime.now(UTC) + timedelta(minutes=1))
    return msgspec.to_builtins(sign(KEY, cmd))


def test_commands_go_to_their_routes_and_every_outcome_is_reported(tmp_path, caplog):
    """A routed command runs with its arguments Struct (on the coordinator when `on` is given)
    and reports its result; an unrouted one is `command_unknown`, a failing route
    `command_failed`, a bad signature `command_unauthenticated`; a name is routed once."""
    caplog.set_level(logging.ERROR)
    reported = []
    router = CommandRouter(CommandGuard(str(tmp_path / "c.db"), "dev-1", KEY), "dev-1",
                           reported.append)
    c = Coordinator("coord-cmd", {})
    c.start()
    router.route("open", lambda args: {"door": args.door,
                                       "thread": threading.current_thread().name}, on=c.call)

    @router.command("sweep")
    def sweep(args):
        raise RuntimeError("a bug")

    with pytest.raises(ValueError):
        router.route("open", lambda args: None)
    try:
        router.handle(command("open", "a" * 16, door="wc"))
        router.handle(command("lockdown", "b" * 16))
        router.handle(command("sweep", "c" * 16, room="wc"))
        router.handle(dict(command("open", "d" * 16), mac="0" * 64))
    finally:
        c.stop()
        router.guard.close()
    assert [(r.name, r.ok, r.code, r.result) for r in reported] == [
        ("open", True, "", {"door": "wc", "thread": "coord-cmd"}),
        ("lockdown", False, "command_unknown", {}),
        ("sweep", False, "command_failed", {}),
        ("open", False, "command_unauthenticated", {})]
    assert "dev-1: command sweep failed" in caplog.text
