"""Card readers through their real seams: the simulator socket, pty pairs and pyserial loop://."""

import os
import queue
import threading
import time
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_common.readers import (
    CardRead,
    InvalidCardData,
    normalise_uid,
    open_reader,
    send_sim_tap,
)
from edge_common.readers.config import SerialReaderConfig, SimReaderConfig
from edge_common.readers.reopen import LoopReader
from edge_common.readers.serial_line import LineFramer, parse_line
from edge_common.readers.sim import parse_tap
from tests.harness import wait_for
from tests.ptypair import close_quietly, pty_pair


def collect(reader):
    """Start `reader` and return the queues its cards and states arrive in."""
    cards, states = queue.Queue(), queue.Queue()
    reader.start(cards.put, lambda state, detail: states.put(state))
    return cards, states


@pytest.mark.parametrize("raw, uid", [
    (b"\x04\xa1\xb2\xc3", "04A1B2C3"), ("04:a1:b2:c3", "04A1B2C3"), (" 04-A1 B2c3\n", "04A1B2C3"),
])
def test_normalise(raw, uid):
    """UIDs as bytes or text with separators and case normalise to upper-case hex."""
    assert normalise_uid(raw) == uid


@pytest.mark.parametrize("raw", ["", "xyz", "0", "00" * 11, b""])
def test_not_uids(raw):
    """Empty, non-hex, odd-length and too long input is card_data_invalid."""
    with pytest.raises(InvalidCardData) as err:
        normalise_uid(raw)
    assert err.value.code == "card_data_invalid"


@given(st.one_of(st.binary(max_size=40), st.text(max_size=40)))
def test_normalise_raises_only_its_code(raw):
    """Any input gives hex or card_data_invalid, nothing else."""
    try:
        assert set(normalise_uid(raw)) <= set("0123456789ABCDEF")
    except InvalidCardData:
        pass


def test_sim_reader_reads_uids_and_barcodes_and_skips_garbage(tmp_path):
    """The simulator socket reads a UID and a barcode, skips an undecodable datagram, and removes
    its socket on stop."""
    reader = open_reader(SimReaderConfig(socket=str(tmp_path / "r.sock")))
    cards, states = collect(reader)
    try:
        assert states.get(timeout=30) == "ok"
        send_sim_tap(str(tmp_path / "r.sock"), "04:a1:b2:c3")
        import socket

        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(b"\xff\xfe", str(tmp_path / "r.sock"))
        send_sim_tap(str(tmp_path / "r.sock"), "LIB-0042x")
        first, second = cards.get(timeout=30), cards.get(timeout=30)
        assert (first.uid, first.kind) == ("04A1B2C3", "uid")
        assert (second.uid, second.kind) == ("LIB-0042x", "barcode")
    finally:
        reader.stop()
    assert not (tmp_path / "r.sock").exists()


def test_tap_at_a_reader_that_does_not_answer_says_so(tmp_path):
    """`libedge tap` tells a reader that took the card without answering, a sent tap, and an
    unreachable reader apart."""
    from click.testing import CliRunner

    from libedge_cli.main import cli

    reader = open_reader(SimReaderConfig(socket=str(tmp_path / "r.sock")))
    cards, states = collect(reader)  # like the kiosk: takes the card, answers nothing
    try:
        assert states.get(timeout=30) == "ok"
        run = CliRunner().invoke(cli, ["tap", "--socket", str(tmp_path / "r.sock"), "--wait",
                                       "0.2", "kiosk", "04A1B2C3"])
        assert (run.exit_code, run.output) == (
            3, "presented 04A1B2C3 at kiosk; the device gave no answer within 0.2 s\n")
        assert cards.get(timeout=30).uid == "04A1B2C3"
        sent = CliRunner().invoke(cli, ["tap", "--socket", str(tmp_path / "r.sock"), "--wait",
                                        "0", "kiosk", "04A1B2C3"])
        assert (sent.exit_code, sent.output) == (0, "tapped 04A1B2C3 at kiosk\n")
    finally:
        reader.stop()
    gone = CliRunner().invoke(cli, ["tap", "--socket", str(tmp_path / "r.sock"), "kiosk", "04"])
    assert gone.exit_code == 2 and "cannot reach the reader" in gone.output
    assert gone.exception is None or isinstance(gone.exception, SystemExit)


@given(st.binary(max_size=300))
def test_sim_parse_never_raises_anything_else(data):
    """Any datagram parses to a card or card_data_invalid."""
    try:
        parse_tap(data, "sim")
    except InvalidCardData:
        pass


def test_framer_handles_cr_lf_crlf_garbage_and_long_lines():
    """Lines end at CR, LF or CRLF; empty and over-long lines are dropped."""
    f = LineFramer(max_line=8)
    got = list(f.feed(b"AB12\rCD34\nEF56\r\n\r\n"))
    got += list(f.feed(b"TOO-LONG-LINE-HERE\nOK1"))
    got += list(f.feed(b"\n"))
    assert got == [b"AB12", b"CD34", b"EF56", b"OK1"]


@given(st.lists(st.binary(max_size=50), max_size=10))
def test_framer_lines_never_hold_terminators_or_exceed_the_limit(chunks):
    """Whatever the chunks, framed lines are non-empty, bounded and free of line ends."""
    f = LineFramer(max_line=16)
    for chunk in chunks:
        for line in f.feed(chunk):
            assert line and len(line) <= 16 and b"\r" not in line and b"\n" not in line
            try:
                parse_line(line, "barcode", "s")
            except InvalidCardData:
                pass


def test_serial_reader_over_loop_url():
    """A serial reader opens a pyserial URL and says `ok`."""
    reader = open_reader(SerialReaderConfig(url="loop://", kind_of_data="barcode"))
    cards, states = collect(reader)
    try:
        assert states.get(timeout=30) == "ok"
    finally:
        reader.stop()


def test_serial_reader_over_a_pty_survives_unplug_and_replug(tmp_path):
    """A scanner on a pty is read, reported lost when unplugged, and read again once back."""
    link = str(tmp_path / "ttyScanner")
    controller, device = pty_pair(link)
    reader = open_reader(SerialReaderConfig(url=link, kind_of_data="uid", name="scanner"))
    cards, states = collect(reader)
    try:
        assert states.get(timeout=30) == "ok"
        os.write(controller, b"04a1b2c3\r\nnot-hex\r\n04D4E5F6\n")
        assert cards.get(timeout=30).uid == "04A1B2C3"
        assert cards.get(timeout=30).uid == "04D4E5F6"
        os.close(controller)
        os.close(device)
        os.unlink(link)
        assert states.get(timeout=30) == "lost"
        time.sleep(0.5)  # a person takes a moment to plug it back in
        controller, device = pty_pair(link)
        assert states.get(timeout=30) == "ok"
        os.write(controller, b"0A0B0C0D\r")
        assert cards.get(timeout=30).uid == "0A0B0C0D"
    finally:
        reader.stop()
        close_quietly(controller, device)


@pytest.fixture(scope="module")
def pcscd(tmp_path_factory):
    """A private pcscd with the virtual reader, for this module."""
    from tests.vpcd import Pcscd

    daemon = Pcscd(tmp_path_factory.mktemp("pcscd"))
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.mark.xdist_group("pcscd")
def test_pcsc_reader_reads_taps_and_survives_pcscd_restart(pcscd):
    """Each tap is read once however long the card stays on the reader; pcscd restarted, the
    reader says `lost`, then `ok`, and reads taps again."""
    from edge_common.readers.config import PcscReaderConfig
    from tests.vpcd import VirtualCard, reader_empty

    reader = open_reader(PcscReaderConfig(reader="Virtual PCD", poll_interval=0.1))
    cards, states = collect(reader)

    def tap(uid: bytes) -> str:
        """Put a card down until it was read and polled three times more, take it away, and
        wait until pcscd sees the reader empty (a card put down before is not powered).

        On a loaded machine pcscd now and then misses a virtual card's arrival altogether;
        a card that pcscd never saw is put down again, one that pcscd saw must be read."""
        for _ in range(3):
            card = VirtualCard(uid)
            threading.Thread(target=card.serve, args=(60,), daemon=True).start()
            try:
                read = cards.get(timeout=10).uid
            except queue.Empty:
                assert reader_empty("Virtual PCD"), "pcscd has the card; the reader missed it"
                card.remove()
                continue
            try:
                polled = card.powered
                wait_for(lambda card=card, polled=polled: card.powered >= polled + 3,
                         what="the card polled while left there")
            finally:
                card.remove()
            wait_for(lambda: reader_empty("Virtual PCD"), what="pcscd seeing the card gone")
            assert cards.empty(), "a card left on the reader is reported once"
            return read
        raise AssertionError("pcscd never saw the card in three tries")

    try:
        assert states.get(timeout=30) == "ok"
        assert tap(b"\x04\xa1\xb2\xc3\xd4\xe5\xf6") == "04A1B2C3D4E5F6"
        assert tap(b"\x04\xa1\xb2\xc3\xd4\xe5\xf6") == "04A1B2C3D4E5F6"
        pcscd.stop()
        assert states.get(timeout=30) == "lost"
        pcscd.start()
        assert states.get(timeout=30) == "ok"
        assert tap(b"\x11\x22\x33\x44") == "11223344"
    finally:
        reader.stop()


@pytest.mark.xdist_group("pcscd")
def test_pcsc_reader_started_before_pcscd_waits_for_it(pcscd):
    """A reader started while pcscd is not running (a device booting) says `lost`, and once
    pcscd runs says `ok` and reads a tap."""
    from edge_common.readers.config import PcscReaderConfig
    from tests.vpcd import VirtualCard

    pcscd.stop()
    reader = open_reader(PcscReaderConfig(reader="Virtual PCD", poll_interval=0.1))
    cards, states = collect(reader)
    card = None
    try:
        assert states.get(timeout=30) == "lost"
        pcscd.start()
        assert states.get(timeout=30) == "ok"
        card = VirtualCard(b"\x04\xa1\xb2\xc3")
        threading.Thread(target=card.serve, args=(60,), daemon=True).start()
        assert cards.get(timeout=30).uid == "04A1B2C3"
    finally:
        reader.stop()
        if card:
            card.remove()
        if pcscd.proc is None or pcscd.proc.poll() is not None:
            pcscd.start()


def test_nfc_reader_over_nfcpy_udp_reports_each_tap_once():
    """A card left on an nfcpy reader is reported once; the next card is read after it."""
    from edge_common.readers.config import NfcReaderConfig
    from provisioning.broker import free_port
    from tests.type2tag import Type2Card, wait_until_polled_for_a_card

    port = free_port()
    reader = open_reader(NfcReaderConfig(path=f"udp:127.0.0.1:{port}"))
    cards, states = collect(reader)
    try:
        assert states.get(timeout=30) == "ok"
        card = Type2Card(port, bytes.fromhex("04A1B2C3D4E5F6")).present()
        assert cards.get(timeout=30).uid == "04A1B2C3D4E5F6"
        checked = card.commands
        wait_for(lambda: card.commands > checked + 3, what="the reader checking the card is there")
        assert cards.empty(), "a card left on the reader is reported once"
        card.remove()
        wait_until_polled_for_a_card(port)
        Type2Card(port, bytes.fromhex("04112233445566")).present()
        assert cards.get(timeout=30).uid == "04112233445566"
    finally:
        reader.stop()


def test_missing_nfc_front_end_is_reported_lost_and_retried(monkeypatch):
    """Without its front end the reader says `lost` once and keeps trying; plugged in, it says
    `ok` and reads a tap. Until then nfcpy opens a USB device that does not exist."""
    import nfc

    from edge_common.readers.config import NfcReaderConfig
    from provisioning.broker import free_port
    from tests.type2tag import Type2Card

    port, plugged, opens = free_port(), threading.Event(), []
    real = nfc.ContactlessFrontend

    def front_end(path: str):
        """nfcpy's own open: of the configured front end once it is plugged in."""
        opens.append(path)
        return real(path if plugged.is_set() else "usb:999:999")

    monkeypatch.setattr(nfc, "ContactlessFrontend", front_end)
    reader = open_reader(NfcReaderConfig(path=f"udp:127.0.0.1:{port}"))
    cards, states = collect(reader)
    card = None
    try:
        assert states.get(timeout=30) == "lost"
        wait_for(lambda: len(opens) >= 3, what="the reader trying again")
        plugged.set()
        assert states.get(timeout=30) == "ok", "retried until the front end was there"
        card = Type2Card(port, bytes.fromhex("04A1B2C3D4E5F6")).present()
        assert cards.get(timeout=30).uid == "04A1B2C3D4E5F6"
    finally:
        if card:
            card.remove()
        reader.stop()


class Flaky(LoopReader):
    """A LoopReader whose device is missing at first, then reports one card and waits."""

    def __init__(self):
        super().__init__(SimpleNamespace(name="flaky"))
        self.opens = 0

    def _session(self, stopping, ready, on_card):
        self.opens += 1
        if self.opens == 1:
            raise OSError("not plugged in yet")
        ready()
        on_card(CardRead("04A1B2C3", "uid", self.name, time.monotonic()))
        stopping.wait()


def test_a_loop_reader_reopens_its_device_reports_cards_and_stops_idempotently():
    """A reader whose device fails at first reopens it, reports its card, and stops twice without
    harm."""
    reader = Flaky()
    reader.stop()                                   # before start: nothing to stop
    cards, states = collect(reader)
    try:
        assert [states.get(timeout=30), states.get(timeout=30)] == ["lost", "ok"]
        assert cards.get(timeout=30).uid == "04A1B2C3"
    finally:
        reader.stop()
        reader.stop()
    assert reader.opens == 2 and states.empty()
