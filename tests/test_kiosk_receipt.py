"""Receipts in the patron's language, printed as ESC/POS bytes on python-escpos' Dummy printer."""

from datetime import date, datetime

import pytest

from edge_common.printer import PrinterConfig, PrinterUnavailable, open_printer, print_lines
from kiosk.i18n import Translator
from kiosk.receipt import Paid, compose
from patron_ui.models import Borrowed, Renewal

WHEN = datetime(2026, 11, 23, 18, 5)


def lines(lang="sl"):
    return compose(Translator(lang), "Mestna knjižnica Ljubljana", "Knjižnica Bežigrad", WHEN,
                   borrowed=[Borrowed("B1", "Ivan Cankar: Na klancu", date(2026, 12, 14)),
                             Borrowed("B2", "", None, queued=True)],
                   renewals=[Renewal("l1", "Kosovel", True, date(2026, 12, 20)),
                             Renewal("l2", "Prešeren", False, refusal="hold_waiting")],
                   paid=[Paid(350, "T1", ["d1"])])


def test_receipt_lists_what_happened_without_the_patron():
    text = "\n".join(x.text for x in lines())
    assert "Na klancu" in text and "14. dec. 2026" in text
    assert "Kosovel" in text and "Prešeren" not in text
    assert "T1" in text and "3,50" in text and "Skupaj" in text
    assert "zabeleženo" in text


def test_printed_bytes_are_escpos_with_a_cut():
    p = open_printer(PrinterConfig(kind="dummy"))
    print_lines(p, lines("en"))
    out = p.output
    assert out.startswith(b"\x1b") and out.rstrip().endswith(b"\x1dV\x00")
    assert b"Na klancu" in out and b"T1" in out
    assert b"\x1bE\x01" in out  # bold headings


def test_missing_printer_is_a_code_not_a_crash():
    with pytest.raises(PrinterUnavailable) as err:
        open_printer(PrinterConfig(kind="none"))
    assert err.value.code == "printer_unavailable"
    with pytest.raises(PrinterUnavailable):
        open_printer(PrinterConfig(kind="serial", device="/dev/does-not-exist"))

    class Jammed:
        def set(self, **kw):
            raise OSError("paper out")

    with pytest.raises(PrinterUnavailable):
        print_lines(Jammed(), lines())


def test_network_printer_gets_the_receipt_over_tcp_and_a_dead_one_is_a_code():
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    got = bytearray()

    def serve():
        conn, _ = server.accept()
        with conn:
            while b"\x1dV\x00" not in got and (chunk := conn.recv(4096)):
                got.extend(chunk)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    p = open_printer(PrinterConfig(kind="network", host="127.0.0.1", port=port))
    assert p.timeout == 5
    print_lines(p, lines("en"))
    p.close()
    thread.join(5)
    assert b"Na klancu" in got and got.rstrip().endswith(b"\x1dV\x00")
    server.close()
    with pytest.raises(PrinterUnavailable):
        open_printer(PrinterConfig(kind="network", host="127.0.0.1", port=port))


def test_a_printer_gone_at_close_is_logged_not_raised(caplog):
    from edge_common.printer import close_printer

    class Unplugged:
        def close(self):
            raise OSError("device disconnected")

    close_printer(Unplugged())
    assert "printer close failed: OSError" in caplog.text
