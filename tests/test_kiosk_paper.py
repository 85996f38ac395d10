"""The printer's paper state: a pty pair plays the printer and answers DLE EOT 4 for real."""

import gc
import os
import select
import threading
import tty

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_common.printer import PrinterConfig, open_printer
from kiosk.paper import decode, paper_state, printer_status

QUERY = b"\x10\x04\x04"


class PrinterEnd:
    """The printer's side of a pty pair: answers every paper query with `answer` (None: silent)."""

    def __init__(self):
        self.master, self._slave = os.openpty()  # ours stays open: no hang-up between opens
        tty.setraw(self.master)
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.device = os.ttyname(self._slave)
        self.answer: bytes | None = b"\x12"
        self.queries = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        seen = b""
        while not self._stop.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                seen += os.read(self.master, 64)
            except BlockingIOError:
                continue
            while QUERY in seen:
                seen = seen.split(QUERY, 1)[1]
                self.queries += 1
                if self.answer is not None:
                    os.write(self.master, self.answer)

    def unplug(self):
        self._stop.set()
        self._thread.join()
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture
def printer_end():
    end = PrinterEnd()
    yield end
    if not end._stop.is_set():
        end.unplug()


@pytest.mark.parametrize(("answer", "state"), [
    (b"\x12", "ok"), (b"\x1e", "low"), (b"\x16", "low"), (b"\x72", "out"), (b"\x7e", "out"),
    (None, "unknown"), (b"\x00", "unknown"), (b"\xff", "unknown"),
])
def test_paper_state_as_the_printer_answers_it(printer_end, answer, state):
    printer_end.answer = answer
    printer = open_printer(PrinterConfig(kind="serial", device=printer_end.device))
    assert paper_state(printer) == state
    assert printer_end.queries == 1
    printer.close()


def test_status_opens_asks_and_closes_each_time(printer_end):
    cfg = PrinterConfig(kind="serial", device=printer_end.device)
    assert printer_status(cfg) == "ok"
    printer_end.answer = b"\x72"
    assert printer_status(cfg) == "out"
    assert printer_end.queries == 2


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # escpos __del__
def test_unplugged_printer_is_unavailable(printer_end):
    printer = open_printer(PrinterConfig(kind="serial", device=printer_end.device))
    printer_end.unplug()
    assert paper_state(printer) == "unavailable"
    del printer  # escpos' __del__ fails to flush the vanished port: collect it here
    gc.collect()
    assert printer_status(PrinterConfig(kind="serial", device="/dev/does-not-exist")) == (
        "unavailable")


def test_printers_that_cannot_answer():
    assert printer_status(PrinterConfig(kind="none")) == "none"
    assert printer_status(PrinterConfig(kind="dummy")) == "unknown"


@given(st.binary(max_size=4))
def test_any_answer_decodes_to_a_state(answer):
    state = decode(answer)
    assert state in ("ok", "low", "out", "unknown")
    assert len(answer) == 1 or state == "unknown"
