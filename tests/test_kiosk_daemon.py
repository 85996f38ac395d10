"""The kiosk daemon without its screen: config, card reader socket, scanner and printer on ptys,
the sample backend and central over a real broker."""

import os
import select
import signal
import subprocess
import sys
import threading

import msgspec
import pytest

from central import commands, fleet
from central.circulation import patrons
from central.circulation.store import Store
from edge_common.config import load
from edge_common.errors import ConfigError
from edge_common.printer import PrinterConfig
from edge_common.readers import send_sim_tap
from edge_common.readers.config import PcscReaderConfig, SerialReaderConfig, SimReaderConfig
from kiosk.config import KioskConfig, KioskSection, PaymentConfig
from kiosk.daemon import Kiosk
from kiosk.session import Screen
from tests.circ import copy, install
from tests.harness import PATIENCE, device_parts, wait_for
from tests.ptypair import close_quietly, pty_pair

EXAMPLE = "deploy/kiosk.example.toml"
KEY = "ab" * 32


def test_example_config_is_valid_and_checked_from_the_command_line():
    cfg = load(EXAMPLE, KioskConfig)
    assert isinstance(cfg.card_reader, PcscReaderConfig)
    assert isinstance(cfg.scanner, SerialReaderConfig)
    run = subprocess.run([sys.executable, "-m", "kiosk.daemon", "--config", EXAMPLE,
                          "--check-config"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "ok (central backend, card_reader, scanner)" in run.stdout


@pytest.mark.parametrize("change, message", [
    (("logout_after = 60.0", "logout_after = 60.0\nscreensaver = true"),
     "unknown key 'kiosk.screensaver'"),
    (('"sl", "en"', '"sl", "xx"'), "unknown language 'xx'"),
    (("warning_after = 45.0", "warning_after = 90.0"), "warning_after must be shorter"),
    (('kind = "pcsc"', 'kind = "laser"'), "card_reader"),
])
def test_bad_config_is_refused_naming_the_problem(tmp_path, change, message):
    bad = tmp_path / "kiosk.toml"
    bad.write_text(open(EXAMPLE).read().replace(*change))
    with pytest.raises(ConfigError) as err:
        load(bad, KioskConfig)
    assert message in str(err.value) and str(bad) in str(err.value)
    run = subprocess.run([sys.executable, "-m", "kiosk.daemon", "--config", str(bad),
                          "--check-config"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "config_invalid" in run.stderr and "Traceback" not in run.stderr


@pytest.fixture
def ptys(tmp_path):
    """A scanner and a receipt printer, each on its own pty."""
    pairs = {name: pty_pair(str(tmp_path / f"tty{name}")) for name in ("scanner", "printer")}
    yield {name: (str(tmp_path / f"tty{name}"), fds[0]) for name, fds in pairs.items()}
    close_quietly(*(fd for fds in pairs.values() for fd in fds))


def kiosk_config(tmp_path, ptys, backend="simulated", device=None, mqtt=None) -> KioskConfig:
    """A kiosk with a simulated card reader, a pty scanner and a pty ESC/POS printer."""
    raw = {
        "device": device or {"id": "kiosk-1", "site": "main", "kind": "kiosk",
                             "data_dir": str(tmp_path / "kiosk-1"), "card_key": KEY},
        "kiosk": KioskSection(backend=backend, library="City Library", branch_name="Main",
                              goodbye_for=0.5),
        "card_reader": SimReaderConfig(socket=str(tmp_path / "card.sock"), name="card"),
        "scanner": SerialReaderConfig(url=ptys["scanner"][0], name="scanner"),
        "printer": PrinterConfig(kind="serial", device=ptys["printer"][0]),
        "payment": PaymentConfig(kind="simulated", delay=0.05),
    } | ({"mqtt": mqtt} if mqtt else {})
    return msgspec.convert(raw, KioskConfig, from_attributes=True)


def printed(fd: int, until: bytes = b"\x1dV\x00", timeout: float = PATIENCE) -> bytes:
    """Bytes the printer received, up to and including the paper cut."""
    out = b""
    while until not in out:
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"the printer got only {out!r}"
        out += os.read(fd, 4096)
    return out


def in_session(kiosk: Kiosk, step) -> None:
    """Run a step on the kiosk's session thread, as a touch would."""
    kiosk.worker.act(lambda: step(kiosk.session))


def test_card_scanner_and_printer_drive_a_session(tmp_path, ptys):
    kiosk = Kiosk(kiosk_config(tmp_path, ptys))
    scanner, printer = ptys["scanner"][1], ptys["printer"][1]
    kiosk.start()
    try:
        wait_for(lambda: set(kiosk.reader_states.values()) == {"ok"}, what="readers open")
        send_sim_tap(str(tmp_path / "card.sock"), "04:a1:b2:c3")
        wait_for(lambda: kiosk.session.screen == Screen.ACCOUNT, what="account after the tap")
        os.write(scanner, b"40001\r\n")
        wait_for(lambda: kiosk.session.screen == Screen.CHECKOUT and kiosk.session.borrowed,
                 what="a scan on the account screen borrows")
        os.write(scanner, b"40003\r\n")
        wait_for(lambda: kiosk.session.notice.code == "in_library_only", what="refusal")
        in_session(kiosk, lambda s: s.logout())
        wait_for(lambda: kiosk.session.screen == Screen.RECEIPT, what="receipt question")
        in_session(kiosk, lambda s: s.receipt("print"))
        receipt = printed(printer)
        assert b"City Library" in receipt and b"40001" in receipt and b"Juri Muri" in receipt
        wait_for(lambda: kiosk.session.screen == Screen.GOODBYE, what="goodbye")
        assert kiosk.session.notice.code == "receipt_print"
        wait_for(lambda: kiosk.session.screen == Screen.IDLE, what="back to idle after goodbye")
        os.write(scanner, b"04A1B2C3\r\n")
        wait_for(lambda: kiosk.session.screen == Screen.ACCOUNT,
                 what="a library card scanned at the idle screen identifies the patron")
        assert kiosk.reader_states == {"card_reader": "ok", "scanner": "ok"}
        readers = {f.params["name"]: f.level for f in kiosk.maintenance.facts()
                   if f.label == "maint_reader"}
        assert readers == {"card_reader": "ok", "scanner": "ok"}
    finally:
        kiosk.stop()


def test_a_printer_that_is_gone_is_a_message_not_a_crash(tmp_path, ptys):
    cfg = kiosk_config(tmp_path, ptys)
    cfg = msgspec.structs.replace(cfg, printer=PrinterConfig(kind="serial", device="/dev/nope"))
    kiosk = Kiosk(cfg)
    kiosk.start()
    try:
        send_sim_tap(str(tmp_path / "card.sock"), "04A1B2C3")
        wait_for(lambda: kiosk.session.screen == Screen.ACCOUNT, what="account")
        in_session(kiosk, lambda s: (s.show(Screen.CHECKOUT), s.scan("40001"), s.logout(),
                                     s.receipt("print")))
        wait_for(lambda: kiosk.session.screen == Screen.GOODBYE, what="goodbye")
        assert kiosk.session.notice.code == "printer_unavailable"
    finally:
        kiosk.stop()


def test_the_terminal_result_is_applied_on_the_session_thread(tmp_path, ptys):
    kiosk = Kiosk(kiosk_config(tmp_path, ptys))
    session_thread, applied_on = [], []
    payment_done = kiosk.session.payment_done
    kiosk.session.payment_done = lambda result: (
        applied_on.append(threading.current_thread()), payment_done(result))
    kiosk.start()
    try:
        in_session(kiosk, lambda s: session_thread.append(threading.current_thread()))
        send_sim_tap(str(tmp_path / "card.sock"), "04A1B2C3")
        wait_for(lambda: kiosk.session.screen == Screen.ACCOUNT, what="account")
        in_session(kiosk, lambda s: (s.show(Screen.PAY), s.pay()))
        wait_for(lambda: kiosk.backend.payments, what="the approved payment recorded")
        kiosk.session.terminal.device.delay = 30  # still pending when the patron cancels
        in_session(kiosk, lambda s: (s.pay(), s.cancel_payment()))
        wait_for(lambda: len(applied_on) == 2, what="the cancelled payment's result")
        assert applied_on == session_thread * 2
        assert kiosk.backend.payments == [(["d1", "d2"], 390, "SIM000001")]
    finally:
        kiosk.stop()


def test_kiosk_against_central_over_the_broker(net, tmp_path, ptys):
    s = install(Store(net.db), branches=[(net.site, "Main Library")])
    copy(s, "B1", "Alamut", net.site)
    pid = patrons.add_patron(s, "Novak", "adult", branch=net.site, first_name="Ana")
    patrons.add_card(s, pid, "04A1B2C3D4")
    net.start_central()
    fleet.enrol(net.db, "kiosk-1", net.site, "kiosk")
    dev, mqtt, _ = device_parts(net.broker, tmp_path, "kiosk-1", net.site, "kiosk", net.card_key)
    kiosk = Kiosk(kiosk_config(tmp_path, ptys, "central", device=dev, mqtt=mqtt))
    kiosk.start()
    try:
        wait_for(lambda: kiosk.backend.online, what="central reachable")
        send_sim_tap(str(tmp_path / "card.sock"), "04A1B2C3D4")
        wait_for(lambda: kiosk.session.account is not None, what="account from central")
        assert kiosk.session.patron.display_name == "Ana N."
        os.write(ptys["scanner"][1], b"B1\r\n")
        wait_for(lambda: kiosk.session.borrowed, what="borrowed at central")
        assert kiosk.session.borrowed[0].title == "Alamut" and not kiosk.session.borrowed[0].queued
        assert s.scalar("SELECT count(*) FROM loans WHERE patron_id = ? AND returned_at IS NULL",
                        [pid]) == 1
        assert kiosk.runtime.health().outbox_depth == 0
    finally:
        kiosk.stop()


def test_a_pushed_config_is_kept_for_the_next_start_and_a_bad_one_refused(net, tmp_path, ptys):
    """Central's `config` reaches the kiosk signed; a valid one is kept (restart_needed) and in
    force after a restart, an invalid one is refused (config_invalid) and changes nothing."""
    net.start_central()
    key = fleet.enrol(net.db, "kiosk-1", net.site, "kiosk")
    dev, mqtt, _ = device_parts(net.broker, tmp_path, "kiosk-1", net.site, "kiosk", net.card_key,
                                command_key=key)
    cfg = kiosk_config(tmp_path, ptys, "central", device=dev, mqtt=mqtt)
    body = {k: v for k, v in msgspec.to_builtins(cfg).items() if k not in ("device", "mqtt")}
    kiosk = Kiosk(cfg)
    kiosk.start()

    def outcomes() -> list[tuple[str, bytes]]:
        """The kiosk's answers to its commands, oldest first."""
        return net.db.execute("SELECT outcome, result FROM command_results WHERE dev = 'kiosk-1'"
                              " ORDER BY id").fetchall()

    try:
        wait_for(lambda: kiosk.runtime.link.connected, what="kiosk connected")
        good = {**body, "kiosk": {**body["kiosk"], "goodbye_for": 2.0}}
        commands.issue(net.db, "kiosk-1", "config", {"version": 2, "config": good})
        wait_for(lambda: len(outcomes()) == 1, what="config v2 answered")
        assert outcomes()[0] == ("ok", b'{"version":2,"restart_needed":true}')
        bad = {**body, "kiosk": {**body["kiosk"], "goodbye_for": -1}}
        commands.issue(net.db, "kiosk-1", "config", {"version": 3, "config": bad})
        wait_for(lambda: len(outcomes()) == 2, what="config v3 answered")
        assert outcomes()[1][0] == "config_invalid"
        assert kiosk.cfg.kiosk.goodbye_for == 0.5
    finally:
        kiosk.stop()
    again = Kiosk(cfg)
    assert again.cfg.kiosk.goodbye_for == 2.0 and again.config.version == 2


def test_the_daemon_shows_its_screen_follows_a_tap_and_stops_on_sigterm(tmp_path, ptys):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f"""[device]\nid = "kiosk-1"\nsite = "main"\nkind = "kiosk"
data_dir = "{tmp_path / 'data'}"\ncard_key = "{KEY}"
[kiosk]\nbackend = "simulated"\nfullscreen = false
[card_reader]\nkind = "sim"\nsocket = "{tmp_path / 'card.sock'}"
[scanner]\nkind = "serial"\nurl = "{ptys['scanner'][0]}"
""")
    env = os.environ | {"SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(tmp_path / ".kivy")}
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.daemon", "--config", str(cfg)],
                            stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()

    def logged(text):
        wait_for(lambda: any(text in line for line in lines),
                 what=f"{text!r} in the kiosk's log: {''.join(lines[-20:])}")
        return True

    try:
        assert logged("kiosk ready: idle screen shown")
        assert logged("reader serial ready")
        wait_for(lambda: (tmp_path / "card.sock").exists(), what="card reader socket")
        send_sim_tap(str(tmp_path / "card.sock"), "04A1B2C3")
        assert logged("screen account")
        os.write(ptys["scanner"][1], b"40001\r\n")
        assert logged("screen checkout")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(PATIENCE) == 0
    finally:
        proc.kill()
    assert "Traceback" not in "".join(lines)


def test_a_staff_card_opens_maintenance_where_restart_closes_the_screen(tmp_path, ptys):
    kiosk = Kiosk(kiosk_config(tmp_path, ptys))
    closed = []
    kiosk.stop_ui = lambda: closed.append(True)
    kiosk.start()
    try:
        send_sim_tap(str(tmp_path / "card.sock"), "04FF0001")
        wait_for(lambda: kiosk.session.screen == Screen.MAINTENANCE, what="maintenance")
        in_session(kiosk, lambda s: (s.restart(), s.restart()))
        wait_for(lambda: closed, what="the screen closed")
        assert kiosk.restart_requested
        assert any("restart requested" in p.message for p in kiosk.problems.recent())
    finally:
        kiosk.stop()
