"""The return box's receipt: the visit's items, where each went, in the patron's language,
printed as ESC/POS bytes on python-escpos' Dummy printer, and the e-mail body for central."""

from datetime import date, datetime

import msgspec

from edge_common.printer import PrinterConfig, open_printer, print_lines
from edge_common.protocol.circulation import RECEIPT_EMAIL
from returnbox.i18n import Translator
from returnbox.receipt import compose_visit, email
from returnbox.views import ReturnedItem

WHEN = datetime(2026, 12, 1, 21, 40)
VISIT = (
    ReturnedItem("B1", "Ivan Cankar: Na klancu", "hold_shelf", "H", pickup_by=date(2026, 12, 8)),
    ReturnedItem("B2", "Srečko Kosovel: Integrali", "reshelve", "A", fine=120),
    ReturnedItem("B3", "", "sort_later", "S", queued=True),
    ReturnedItem("B4", "Not ours", "reject", "", refusal="not_ours"),
)


def text(lang: str) -> str:
    return "\n".join(line.text for line in compose_visit(
        Translator(lang), "Mestna knjižnica Ljubljana", "Knjižnica Bežigrad", WHEN, VISIT))


def test_the_receipt_lists_each_taken_item_and_where_it_went_in_the_patrons_language():
    sl = text("sl")
    assert sl.startswith("Mestna knjižnica Ljubljana\nKnjižnica Bežigrad\n1. dec. 2026 21:40")
    assert "Na klancu\n  B1  Polica rezervacij, zabojnik H\n  rezervirano: prevzem do 8. dec. " \
           "2026" in sl
    assert "B2  Nazaj na police, zabojnik A\n  zamudnina 1,20\xa0€" in sl
    assert "B3\n  B3  Razvrstijo ga knjižničarji, zabojnik S\n  potrditev sledi pozneje" in sl
    assert "B4" not in sl and "Not ours" not in sl  # handed back: not on the receipt
    en = text("en")
    assert "B2  Back to the shelves, bin A\n  late fee €1.20" in en
    assert "will be confirmed later" in en and "pick up by 8 Dec 2026" in en
    assert "B1  预约书架，箱 H" in text("zh")


def test_printed_on_a_real_escpos_dummy_with_a_bold_heading_and_a_cut():
    p = open_printer(PrinterConfig(kind="dummy"))
    lines = compose_visit(Translator("cs"), "Městská knihovna", "Pobočka", WHEN, VISIT)
    print_lines(p, lines)
    out = p.output
    assert out.startswith(b"\x1b") and out.rstrip().endswith(b"\x1dV\x00")
    assert b"Na klancu" in out and b"B3" in out
    assert b"\x1bE\x01" in out  # bold title and heading
    assert b"bude potvrzeno pozd" in out


def test_the_email_body_is_a_valid_receipt_email_without_the_patron():
    t = Translator("hu")
    lines = compose_visit(t, "Fővárosi Szabó Ervin Könyvtár", "Központi", WHEN, VISIT)
    body = email(t, "a" * 64, lines)
    sent = msgspec.json.decode(msgspec.json.encode(body), type=RECEIPT_EMAIL.body)
    assert sent.lang == "hu" and sent.subject == "Nyugta a visszahozott dokumentumokról"
    assert [x.text for x in sent.lines] == [x.text for x in lines]
    assert sent.lines[0].style == "title" and sent.lines[3].style == "heading"
    assert "returnbox" in RECEIPT_EMAIL.senders
