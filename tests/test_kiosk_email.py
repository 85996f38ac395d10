"""E-mailed kiosk receipts end to end: a kiosk session over mosquitto, central's notice queue,
and `libedge admin notices send` delivering to a real SMTP server (aiosmtpd)."""

import json
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from click.testing import CliRunner

from central import ingest
from central.circulation import notices
from edge_common.cardid import card_hash
from edge_common.protocol.circulation import RECEIPT_EMAIL, ReceiptEmail, ReceiptLine
from kiosk.central_backend import CentralBackend
from kiosk.session import Screen, Session, Settings
from libedge_cli.main import cli
from tests.circ import card_holder, site_library
from tests.harness import wait_for
from tests.mailserver import MailServer

ANA = "04A1B2C3D4"
BOR = "04C0FFEE01"


@pytest.fixture
def lib(net):
    """The devices' branch with a copy, Ana (e-mail on file, Slovenian) and Bor (no e-mail)."""
    s = site_library(net, ("B1", "Alamut"))
    s.ana = card_holder(s, ANA, "Novak", net.site, first_name="Ana",
                        email="ana.novak@example.org", language="sl")
    s.bor = card_holder(s, BOR, "Kranjc", net.site, first_name="Bor")
    net.start_central()
    return s


@pytest.fixture
def smtp():
    server = MailServer()
    yield server
    server.stop()


def session_at(kiosk, net) -> Session:
    backend = CentralBackend(kiosk)
    return Session(backend, terminal=None, print_receipt=lambda s: None,
                   settings=Settings(library="City Library", branch="Main Library"))


def borrow_and_log_out(session: Session, card: str) -> None:
    session.card(card)
    assert session.screen == Screen.ACCOUNT
    session.show(Screen.CHECKOUT)
    session.scan("B1")
    session.logout()
    assert session.screen == Screen.RECEIPT


def send(net, port: int, ok: bool = True) -> dict:
    result = CliRunner().invoke(cli, ["admin", "notices", "send", "--db", net.store,
                                      "--smtp-host", "127.0.0.1", "--smtp-port", str(port),
                                      "--smtp-security", "none"])
    assert (result.exit_code == 0) == ok, result.output
    return json.loads(result.output)


def receipts(lib) -> list[dict]:
    return [n for n in notices.pending(lib, "email") if n["kind"] == "receipt"]


def test_receipt_is_emailed_once_in_the_patrons_language(net, lib, kiosk, smtp):
    session = session_at(kiosk, net)
    borrow_and_log_out(session, ANA)
    assert session.patron.email_on_file and session.email_offered and session.lang == "sl"
    session.receipt("email")
    assert session.screen == Screen.GOODBYE and session.notice.code == "receipt_email"
    wait_for(lambda: kiosk.health().outbox_depth == 0, what="receipt event acked")
    [queued] = receipts(lib)
    assert queued["patron_id"] == lib.ana and queued["channel"] == "email"
    sent_body = msgspec.json.encode(queued["body"]).decode()
    assert "Novak" not in sent_body and "example.org" not in sent_body

    event_id = queued["key"].rsplit(":", 1)[1]
    event = msgspec.convert({"card": card_hash(bytes.fromhex(net.card_key), ANA), "lang": "sl",
                             "subject": queued["body"]["subject"],
                             "lines": queued["body"]["lines"]}, ReceiptEmail)
    kiosk.emit(RECEIPT_EMAIL, event, id=event_id)          # the outbox re-sends it
    wait_for(lambda: kiosk.health().outbox_depth == 0, what="duplicate acked")
    ingest.prune(net.db, datetime.now(UTC) + timedelta(minutes=1))  # central forgets ids
    kiosk.emit(RECEIPT_EMAIL, event, id=event_id)
    wait_for(lambda: kiosk.health().outbox_depth == 0, what="late duplicate acked")
    assert len(receipts(lib)) == 1

    smtp.start()
    assert send(net, smtp.port) == {"sent": 1, "failed": [], "withdrawn": []}
    assert send(net, smtp.port) == {"sent": 0, "failed": [], "withdrawn": []}
    [msg] = smtp.inbox.messages
    assert msg["To"] == "ana.novak@example.org"
    assert msg["From"] == f"Main Library <{net.site}@library.example>"
    assert msg["Subject"] == "Vaše potrdilo iz knjižnice"
    assert msg["Content-Language"] == "sl"
    body = msg.get_content().splitlines()
    assert body[:2] == ["City Library", "Main Library"]
    assert "Pravkar izposojeno" in body and "Alamut" in body
    assert any(line.strip().startswith("B1  vrnite do") for line in body), body


def test_receipt_chosen_offline_waits_and_smtp_down_leaves_it_pending(net, lib, kiosk, smtp):
    session = session_at(kiosk, net)
    borrow_and_log_out(session, ANA)
    net.central.stop()
    net.central = None
    wait_for(lambda: not kiosk.central_up, what="central gone")
    session.receipt("email")
    assert session.notice.code == "receipt_email" and kiosk.health().outbox_depth == 1
    net.start_central()
    wait_for(lambda: receipts(lib), what="receipt queued")
    report = send(net, smtp.port, ok=False)
    assert report["sent"] == 0
    assert [f["code"] for f in report["failed"]] == ["smtp_unreachable"]
    assert len(receipts(lib)) == 1
    smtp.start()
    assert send(net, smtp.port)["sent"] == 1
    assert receipts(lib) == [] and len(smtp.inbox.messages) == 1


def test_patron_without_email_is_not_offered_it_and_forged_events_are_refused(
        net, lib, kiosk):
    session = session_at(kiosk, net)
    borrow_and_log_out(session, BOR)
    assert not session.patron.email_on_file and not session.email_offered
    session.receipt("email")
    assert session.screen == Screen.RECEIPT
    key = bytes.fromhex(net.card_key)
    lines = [ReceiptLine(style="text", text="x")]
    for card, code in [(card_hash(key, BOR), "no_email"), ("0" * 64, "card_unknown")]:
        kiosk.emit(RECEIPT_EMAIL, ReceiptEmail(card=card, lang="en", subject="s", lines=lines))
        wait_for(lambda: kiosk.health().outbox_depth == 0, what="refused event acked")
        assert net.db.execute("SELECT code FROM rejected ORDER BY n DESC").fetchone() \
            == (code,)
    assert receipts(lib) == []
