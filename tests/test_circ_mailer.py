"""Pending e-mail notices of every kind over a real SMTP server (aiosmtpd): STARTTLS, SSL and
login; what fails stays pending with a stable code."""

import pytest

from central.circulation import holds, loans, mailer, notices, reminders, settings
from central.circulation.mailer import SmtpConfig
from tests.circ import DESK, copy, library, patron
from tests.mailserver import MailServer, self_signed

pytestmark = pytest.mark.filterwarnings(  # aiosmtpd's own notes about its test set-up
    "ignore:Requiring AUTH while not requiring TLS:UserWarning",
    "ignore:Session.login_data is deprecated:DeprecationWarning")
LOGIN = ("libedge", "s3cret")


@pytest.fixture
def s(central_db):
    return library(central_db)


@pytest.fixture
def tls(tmp_path):
    return self_signed(tmp_path)


@pytest.fixture
def servers():
    started: list[MailServer] = []

    def start(**kw) -> MailServer:
        server = MailServer(**kw)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def every_kind(s) -> int:
    """Ana gets a hold-ready notice, a due-date warning, an overdue notice and a membership
    notice (Kranjc, without an address, a membership notice); return Ana's id."""
    copy(s, "B1", "Alamut")
    copy(s, "B2", "Kekec")
    ana = patron(s, first_name="Ana", email="ana@example.org")
    other = patron(s, "Kranjc")
    loans.checkout(s, ana, "B1", "center")
    loans.checkout(s, other, "B2", "center")
    holds.place(s, ana, "B2", "center")
    loans.checkin(s, "B2", "center")
    s.clock.advance(days=19)
    assert reminders.due_warnings(s) == 1
    s.clock.advance(days=10)
    assert reminders.run(s)["notices"] == 1
    s.clock.advance(days=366)
    assert reminders.memberships(s) == 2
    return ana


def smtp(server: MailServer, security="none", login=("", ""), cafile=None) -> SmtpConfig:
    return SmtpConfig("127.0.0.1", server.port, security, *login, cafile=cafile, timeout=10)


def codes(report: dict) -> list[str]:
    return [f["code"] for f in report["failed"]]


def test_every_kind_goes_out_over_starttls_with_login(s, tls, servers):
    ana = every_kind(s)
    mine = [n for n in notices.pending(s, "email") if n["patron_id"] == ana]
    assert {n["kind"] for n in mine} == {"hold_ready", "due_soon", "overdue", "membership"}
    server = servers(tls=tls, login=LOGIN)
    report = mailer.send(s, smtp(server, "starttls", LOGIN, str(tls[0])))
    assert report["sent"] == 4 and codes(report) == ["no_email"]      # Kranjc has no address
    assert [n["kind"] for n in notices.pending(s, "email")] == ["membership"]
    inbox = server.inbox.messages
    assert {m["To"] for m in inbox} == {"ana@example.org"}
    assert {m["From"] for m in inbox} == {"Central Library <center@library.example>"}
    assert {m["Subject"] for m in inbox} == {
        "Your hold is ready for pickup", "A loan is due soon",
        "Overdue notice 1: please return your loan", "Your library membership has expired"}
    hold = next(m for m in inbox if m["Subject"].startswith("Your hold"))
    text = hold.get_content().splitlines()
    assert text[:3] == ["Dear Ana Novak,", "", "Kekec (B2) is waiting for you at Central "
                        "Library until 10 Mar 2026."]
    assert hold["Content-Language"] == "en" and "Central Library 1" in text


def test_a_notice_no_longer_true_is_withdrawn_not_sent(s, servers):
    """Checked when it goes out: a hold lent out of turn or cancelled, a loan returned or
    renewed since the notice was queued — no e-mail, the reason recorded, never sent later."""
    for barcode, title in (("B1", "Alamut"), ("B2", "Kekec"), ("B3", "Visoška kronika")):
        copy(s, barcode, title)
    ana, ben, cene, dora = (patron(s, name, email=f"{name.lower()}@example.org")
                            for name in ("Ana", "Ben", "Cene", "Dora"))
    loans.checkout(s, cene, "B1", "center")
    loans.checkout(s, dora, "B2", "center")
    holds.place(s, ana, "B1", "center")
    holds.place(s, ben, "B2", "center")
    loans.checkin(s, "B1", "center")                  # set aside for Ana
    loans.checkin(s, "B2", "center")                  # set aside for Ben
    loans.checkout(s, cene, "B3", "center")
    s.clock.advance(days=19)
    assert reminders.due_warnings(s) == 1             # Cene's B3
    s.clock.advance(days=10)
    assert reminders.run(s)["notices"] == 1           # Cene's B3 is late
    loans.checkout(s, dora, "B1", "center", overrides=frozenset({"reserved_for_other"}), actor=DESK)
    holds.cancel(s, holds.hold(s, 2)["id"])
    loans.checkin(s, "B3", "center")
    assert {n["kind"] for n in notices.pending(s, "email")} == {"hold_ready", "due_soon",
                                                                "overdue"}
    server = servers()
    report = mailer.send(s, smtp(server))
    assert report["sent"] == 0 and server.inbox.messages == []
    assert sorted(w["code"] for w in report["withdrawn"]) == [
        "hold_not_ready", "hold_not_ready", "loan_changed", "loan_returned"]
    assert notices.pending(s, "email") == []


def test_implicit_tls_wrong_password_and_untrusted_certificate_keep_notices(s, tls, servers):
    every_kind(s)
    before = len(notices.pending(s, "email"))
    server = servers(tls=tls, implicit_tls=True, login=LOGIN)
    wrong = mailer.send(s, smtp(server, "ssl", ("libedge", "nope"), str(tls[0])))
    assert set(codes(wrong)) == {"smtp_auth_failed"} and wrong["sent"] == 0
    untrusted = mailer.send(s, smtp(server, "ssl", LOGIN))
    assert set(codes(untrusted)) == {"smtp_tls_failed"}
    assert len(notices.pending(s, "email")) == before and server.inbox.messages == []
    assert mailer.send(s, smtp(server, "ssl", LOGIN, str(tls[0])))["sent"] == 4


def test_failures_are_per_notice_and_stay_pending(s, servers):
    server = servers()
    server.inbox.refuse.add("gone@example.org")
    addresses = ["gone@example.org", "ana@example.org\nBcc: eve@example.org", "not-an-address",
                 "ok@example.org"]
    for n, address in enumerate(addresses):   # stored before addresses were checked
        p = patron(s, f"P{n}")
        s.update("patrons", p, {"email": address})
        notices.queue(s, {"id": p, "notify": "email"}, "center", "due_soon", f"k{n}",
                      title="Alamut", due="2026-03-23")
    notices.queue(s, {"id": p, "notify": "email"}, "center", "hold_ready", "no-title",
                  barcode="B1")
    report = mailer.send(s, smtp(server))
    assert report["sent"] == 1
    assert codes(report) == ["recipient_refused", "bad_address", "bad_address",
                             "notice_malformed"]
    assert [m["To"] for m in server.inbox.messages] == ["ok@example.org"]
    assert len(notices.pending(s, "email")) == 4


def test_sender_is_the_branch_or_the_library_setting(s, servers):
    server = servers()
    p = patron(s, email="ana@example.org")
    notices.queue(s, {"id": p, "notify": "email"}, "center", "due_soon", "k",
                  title="Alamut", due="2026-03-23")
    s.update("branches", "center", {"email": None})
    s.forget()
    assert codes(mailer.send(s, smtp(server))) == ["no_sender"]
    settings.store(s.db, mail_from="info@library.example")
    s.forget()
    assert mailer.send(s, smtp(server))["sent"] == 1
    assert server.inbox.messages[0]["From"] == "Central Library <info@library.example>"


def test_letters_go_out_in_the_patrons_language(s, servers):
    server = servers()
    copy(s, "B1", "Alamut")
    copy(s, "B2", "Kekec")
    meta = patron(s, "Kovač", first_name="Meta", email="meta@example.org", language="sl")
    loans.checkout(s, patron(s, "Horvat"), "B2", "center")
    holds.place(s, meta, "B2", "center")
    loans.checkin(s, "B2", "center")
    reminders.memberships(s)
    s.clock.advance(days=366)
    reminders.memberships(s)
    assert mailer.send(s, smtp(server))["sent"] == 2
    by_subject = {m["Subject"]: m for m in server.inbox.messages}
    hold = by_subject["Vaše rezervirano gradivo vas čaka"]
    assert hold["Content-Language"] == "sl"
    text = hold.get_content().splitlines()
    assert text[0] == "Spoštovani Meta Kovač,"
    assert text[2] == "Kekec (B2) vas čaka v enoti Central Library do 10. mar. 2026."
    member = by_subject["Vaše članstvo v knjižnici je poteklo"].get_content()
    assert "Podaljšate ga lahko pri pultu (članarina 18,00\xa0€)." in member


@pytest.mark.parametrize("lang", ["sl", "cs", "hu", "zh"])
def test_letter_catalogues_are_complete_with_the_same_placeholders(lang):
    import string

    from babel.messages.pofile import read_po

    from central.circulation import letters

    texts = {*letters.SUBJECTS.values(), *letters.BODIES.values(), *letters.WITHOUT.values(),
             letters.GREETING, letters.OTHER_SUBJECT}
    with (letters.LOCALE_DIR / lang / "LC_MESSAGES" / "letters.po").open("rb") as fh:
        cat = {m.id: m.string for m in read_po(fh) if m.id}
    assert texts <= set(cat), texts - set(cat)

    def fields(text):
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    assert all(cat[t] and fields(cat[t]) == fields(t) for t in texts)
