"""kill -9 of the return box daemon at every state of an item: on restart the item is checked in
once and ends in one bin (or in an alarm); garbage from the scanner costs only itself.

The daemon runs as its own process on a pty scanner and the simulated belt (whose chute socket
puts in an item the scanner cannot read, to reach `detected`); the test-only
`LIBEDGE_RETURNBOX_CRASH_AT` makes it kill itself (SIGKILL) right after committing a state.
"""

import os
import signal
import subprocess
import sys

import pytest

from edge_common.readers.sim import send_sim_tap
from returnbox.ledger import CRASH_ENV
from tests.boxes import config, items, library, returns, settled, write_config
from tests.harness import wait_for
from tests.ptypair import close_quietly, pty_pair


@pytest.fixture
def lib(net):
    """The library with items on loan (central is started by each test)."""
    return library(net)


@pytest.fixture
def scanner(tmp_path):
    """A pty standing in for the USB scanner: write to `.fd`, the daemon reads `.link`."""
    link = tmp_path / "scanner"
    controller, device = pty_pair(str(link))
    yield controller, str(link)
    close_quietly(controller, device)


class Daemon:
    """`python -m returnbox.daemon` on a config file, started and stopped by the test."""

    def __init__(self, path, log_path):
        self.path, self.log_path = path, log_path
        self.log = open(log_path, "ab")
        self.started_at = 0
        self.proc: subprocess.Popen | None = None

    def start(self, crash_at: str | None = None, **more_env: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV} | more_env
        if crash_at:
            env[CRASH_ENV] = crash_at
        self.started_at = self.log_path.stat().st_size
        self.proc = subprocess.Popen([sys.executable, "-m", "returnbox.daemon", "--config",
                                      str(self.path)], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def ready(self, online: bool = True) -> None:
        """Wait until the daemon's scanner is open (a scanner's bytes before that are lost)
        and, if `online`, until it sees central."""
        for line in [b"reader scanner ready"] + ([b"central is serving"] if online else []):
            wait_for(lambda x=line: x in self.log_path.read_bytes()[self.started_at:],
                     what=line.decode())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def display():
    """The patron display the daemon runs with (a test may ask for Kivy's)."""
    return "none"


@pytest.fixture
def daemon(net, lib, tmp_path, scanner, display):
    """The box's config as a file, with the pty as its scanner; the daemon is not started."""
    cfg = config(net, tmp_path, reader={"kind": "serial", "url": scanner[1], "name": "scanner"},
                 display={"kind": display, "fullscreen": False},
                 chute=str(tmp_path / "chute"))
    d = Daemon(write_config(cfg, tmp_path / "returnbox.toml"), tmp_path / "daemon.log")
    d.ledger = f"{cfg.device.data_dir}/returnbox.db"
    d.chute = cfg.simulator.chute
    yield d
    d.stop()
    d.log.close()



def scan(scanner, data: bytes) -> None:
    """Bytes from the scanner."""
    os.write(scanner[0], data)


@pytest.mark.parametrize("state", ["identified", "checked_in", "diverted", "arrived"])
def test_killed_at_each_online_state_the_item_is_checked_in_once_and_lands(net, daemon, scanner,
                                                                           state):
    """Killed right after committing `state`, restarted: B1 ends in the shelf bin, checked in
    exactly once."""
    net.start_central()
    daemon.start(crash_at=state)
    daemon.ready()
    scan(scanner, b"B1\r\n")
    daemon.proc.wait(30)
    assert daemon.proc.returncode == -signal.SIGKILL
    assert items(daemon.ledger)[0][1] == state
    daemon.start()
    wait_for(lambda: settled(daemon.ledger, 1), what="B1 resumed to its end")
    assert items(daemon.ledger) == [("B1", "arrived", "shelf", "reshelve", None, 0)]
    assert len(returns(net, "B1")) == 1


def test_killed_after_queueing_offline_the_return_is_sent_once(net, daemon, scanner):
    """Offline, killed right after `queued` is committed (before or after the outbox has it):
    the restarted box queues it once and it lands; central applies it once when it comes."""
    daemon.start(crash_at="queued")
    daemon.ready(online=False)
    scan(scanner, b"B1\r\n")
    daemon.proc.wait(30)
    daemon.start()
    wait_for(lambda: settled(daemon.ledger, 1), what="B1 resumed to its end")
    assert items(daemon.ledger)[0][1:] == ("arrived", "later", "sort_later", None, 1)
    net.start_central()
    wait_for(lambda: returns(net, "B1"), what="central applied the queued return")
    assert len(returns(net, "B1")) == 1


def test_killed_when_only_the_eye_had_seen_the_item_it_is_given_back(net, daemon, scanner):
    """Killed right after `detected` (the entry eye broken by an item the scanner cannot read):
    the restarted box hands it back as unreadable; nothing is checked in at central and the
    next item is taken as usual."""
    net.start_central()
    daemon.start(crash_at="detected")
    daemon.ready()
    send_sim_tap(daemon.chute, "unlabelled item")
    daemon.proc.wait(30)
    assert daemon.proc.returncode == -signal.SIGKILL
    assert items(daemon.ledger) == [("", "detected", "", "", None, 0)]
    daemon.start()
    daemon.ready()
    wait_for(lambda: settled(daemon.ledger, 1), what="the unread item handled")
    assert items(daemon.ledger) == [("", "rejected", "", "reject", "item_unreadable", 0)]
    scan(scanner, b"B1\r\n")
    wait_for(lambda: settled(daemon.ledger, 2), what="B1 taken after the unread item")
    assert items(daemon.ledger)[1] == ("B1", "arrived", "shelf", "reshelve", None, 0)
    assert len(returns(net, "B1")) == 1
    assert not net.db.execute("SELECT 1 FROM loans l JOIN items i ON i.id = l.item_id"
                              " WHERE i.barcode != 'B1' AND l.returned_at IS NOT NULL"
                              ).fetchone()


def test_garbage_from_the_scanner_is_logged_with_a_code_and_the_box_carries_on(
        net, daemon, scanner, tmp_path):
    """Binary noise, an over-long line and unprintable bytes: each logged with its code; the
    next good read is taken."""
    net.start_central()
    daemon.start()
    daemon.ready()
    scan(scanner, bytes(range(256)) + b"\r\n" + b"X" * 500 + b"\n\x01\x02\x7f\n\xff\xfe\r\n")
    scan(scanner, b"B1\r\n")
    wait_for(lambda: settled(daemon.ledger, 1), what="B1 taken after the garbage")
    log = (tmp_path / "daemon.log").read_text(errors="replace")
    assert "card_data_invalid" in log
    assert items(daemon.ledger) == [("B1", "arrived", "shelf", "reshelve", None, 0)]
    assert daemon.proc.poll() is None


@pytest.mark.parametrize("display", ["kivy"])
def test_the_daemon_with_its_kivy_screen_takes_an_item_and_stops_cleanly(net, daemon, scanner,
                                                                       tmp_path):
    """`[display] kind = "kivy"` (offscreen here): Kivy's loop on the main thread, the item taken
    as without a screen, SIGTERM stops it all without a traceback."""
    net.start_central()
    daemon.start(SDL_VIDEODRIVER="offscreen", KIVY_NO_ARGS="1", KIVY_LOG_MODE="MIXED",
                 KIVY_HOME=str(tmp_path / ".kivy"))
    daemon.ready()
    scan(scanner, b"B1\r\n")
    wait_for(lambda: settled(daemon.ledger, 1), what="B1 taken")
    assert items(daemon.ledger) == [("B1", "arrived", "shelf", "reshelve", None, 0)]
    # the window may still be starting when the belt is done: wait for it to draw the item
    wait_for(lambda: b"returnbox.display.app INFO screen taken" in daemon.log_path.read_bytes(),
             what="the taken screen drawn")
    daemon.stop()
    assert daemon.proc.returncode == 0
    assert "Traceback" not in daemon.log_path.read_text(errors="replace")
