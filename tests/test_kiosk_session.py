"""The kiosk state machine, every path, driven without Kivy."""

from datetime import date

import msgspec
import pytest

from edge_common.errors import EdgeError, OfflineError
from kiosk.i18n import Translator
from kiosk.payment import PaymentResult
from kiosk.session import Notice, Screen, Session, Settings
from patron_ui.models import Account, Borrowed, Debt, Hold, Loan, Patron, Renewal

ANA = Patron("p1", "Ana", "adult", language="en", email_on_file=True)
PIN_PATRON = Patron("p2", "Bor", "child", needs_pin=True)
STAFF = Patron("s1", "Staff", "staff", staff=True)
NO_EMAIL = Patron("p3", "Cene", "adult", language="sl")
LOANS = [Loan("l1", "Cankar", "B1", date(2026, 12, 1), True),
         Loan("l2", "Prešeren", "B2", date(2026, 12, 2), False, "hold_waiting")]
ACCOUNT = Account(LOANS, [Hold("h1", "Kosovel", "ready", pickup_by=date(2026, 11, 30))],
                  [Debt("d1", "fine", 150), Debt("d2", "reminder_fee", 200)])


class FakeBackend:
    """A scripted central; each method can be made to raise an EdgeError."""

    def __init__(self):
        """A central that knows four cards and answers everything."""
        self.online = True
        self.fail: dict[str, EdgeError] = {}
        self.payments = []
        self.receipts = []
        self.cards = {"04A1": ANA, "04B2": PIN_PATRON, "04FF": STAFF, "04C3": NO_EMAIL}
        self.identified = []
        self.summary = ACCOUNT

    def _check(self, name):
        """Raise the error set for `name`, if any."""
        if name in self.fail:
            raise self.fail[name]

    def identify(self, card, kind):
        """The patron of a known card (the kind is remembered)."""
        self._check("identify")
        self.identified.append((card, kind))
        if card not in self.cards:
            raise EdgeError("unknown", code="card_unknown")
        return self.cards[card]

    def verify_pin(self, patron, pin):
        """1234 is right, 9999 is locked at central, anything else is wrong."""
        self._check("verify_pin")
        if pin == "9999":
            raise EdgeError("locked at central", code="pin_locked")
        if pin != "1234":
            raise EdgeError("wrong", code="pin_wrong")

    def account(self, patron):
        """The account set in `summary`."""
        self._check("account")
        return self.summary

    def checkout(self, patron, barcode):
        """Lend, refuse REF1, queue when offline; CD1 comes with a warning."""
        self._check("checkout")
        if barcode == "REF1":
            raise EdgeError("ref", code="in_library_only")
        if not self.online:
            return Borrowed(barcode, "", None, queued=True)
        warnings = ["attachment_cd"] if barcode == "CD1" else []
        return Borrowed(barcode, f"Title {barcode}", date(2026, 12, 14), warnings)

    def renew(self, patron, loan_ids):
        """l1 renews, anything else is refused with hold_waiting."""
        self._check("renew")
        return [Renewal(i, i, i == "l1", date(2026, 12, 20) if i == "l1" else None,
                        None if i == "l1" else "hold_waiting") for i in loan_ids]

    def record_payment(self, patron, debt_ids, amount, ref):
        """Remember the payment."""
        self._check("record_payment")
        self.payments.append((debt_ids, amount, ref))

    def email_receipt(self, patron, lang, subject, lines):
        """Remember the receipt."""
        self._check("email_receipt")
        self.receipts.append((patron.ref, lang, subject, lines))


class Terminal:
    """A payment terminal whose results the test gives by hand."""

    def __init__(self):
        """A terminal that has started nothing."""
        self.started = []
        self.cancelled = 0

    def start(self, amount, currency, on_done):
        """Remember the amount and whom to tell."""
        self.started.append((amount, currency))
        self.on_done = on_done

    def cancel(self):
        """The patron cancels on the terminal: report it at once."""
        self.cancelled += 1
        self.on_done(PaymentResult("cancelled", self.started[-1][0]))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        """The clock starts at 1000 s."""
        self.t = 1000.0

    def __call__(self):
        """The current time."""
        return self.t


def borrow_and_log_out(s, card="04A1", barcode="B9"):
    """A patron taps, borrows one item and logs out."""
    s.card(card)
    s.show(Screen.CHECKOUT)
    s.scan(barcode)
    s.logout()


@pytest.fixture
def kiosk():
    """A session on the fake central with a remembering printer and a settable clock."""
    receipts = []
    s = Session(FakeBackend(), Terminal(), lambda sess: receipts.append(sess.receipt_lines()),
                Settings(warning_after=45, logout_after=60, goodbye_for=5,
                         library="City Library", branch="Bežigrad"), clock=Clock())
    s.receipts = receipts
    return s


def test_tap_opens_account_in_patrons_language(kiosk):
    """A tap opens the account in the patron's language; the kiosk waits in its first one."""
    assert kiosk.lang == "sl"
    kiosk.card("04A1")
    assert kiosk.backend.identified == [("04A1", "uid")]
    assert kiosk.screen == Screen.ACCOUNT and kiosk.lang == "en"
    assert [h.id for h in kiosk.account.holds_in("ready")] == ["h1"]
    assert kiosk.account.owed == 350


def test_unknown_card_stays_idle_with_a_code(kiosk):
    """An unknown card leaves the idle screen up with card_unknown."""
    kiosk.card("9999")
    assert kiosk.screen == Screen.IDLE and kiosk.notice.code == "card_unknown"


def test_pin_flow_wrong_then_right_then_locked(kiosk):
    """4 to 8 digits, attempts counted down, locked after the last one."""
    kiosk.card("04B2")
    assert kiosk.screen == Screen.PIN
    kiosk.enter_pin("12")
    assert kiosk.notice == Notice("pin_format", "error")
    kiosk.enter_pin("123456789")
    assert kiosk.notice == Notice("pin_format", "error"), "at most 8 digits"
    kiosk.enter_pin("12345678")
    assert kiosk.notice == Notice("pin_wrong", "error", {"left": 2}), "8 digits are checked"
    kiosk.enter_pin("1234")
    assert kiosk.screen == Screen.ACCOUNT
    kiosk.logout()
    kiosk.clock.t += 10
    kiosk.tick()
    kiosk.card("04B2")
    for _ in range(3):
        kiosk.enter_pin("0000")
    assert kiosk.screen == Screen.GOODBYE and kiosk.notice == Notice("pin_locked", "error")


def test_a_pin_central_has_locked_ends_the_session_at_the_first_try(kiosk):
    """Central's pin_locked says goodbye at once, whatever attempts the kiosk would allow."""
    kiosk.card("04B2")
    kiosk.enter_pin("9999")
    assert kiosk.screen == Screen.GOODBYE and kiosk.notice == Notice("pin_locked", "error")


def test_staff_card_opens_maintenance(kiosk):
    """A staff card opens the maintenance screen."""
    kiosk.card("04FF")
    assert kiosk.screen == Screen.MAINTENANCE


def test_checkout_messages_and_running_list(kiosk):
    """Each scan says what happened; only lent items join the list."""
    kiosk.card("04A1")
    kiosk.show(Screen.CHECKOUT)
    kiosk.scan("B9")
    assert kiosk.notice == Notice("checkout_ok", "info",
                                  {"title": "Title B9", "due": date(2026, 12, 14)})
    kiosk.scan("B9")
    assert kiosk.notice == Notice("already_borrowed_now", "info")
    kiosk.scan("CD1")
    assert kiosk.notice == Notice("attachment_cd", "warning", {"title": "Title CD1"})
    kiosk.scan("REF1")
    assert kiosk.notice.code == "in_library_only"
    assert [b.barcode for b in kiosk.borrowed] == ["B9", "CD1"]


def test_offline_checkout_is_queued_and_renew_pay_need_the_link(kiosk):
    """Offline a scan is queued; renewing and paying say they need the link."""
    kiosk.card("04A1")
    kiosk.backend.online = False
    kiosk.show(Screen.CHECKOUT)
    kiosk.scan("B7")
    assert kiosk.notice == Notice("checkout_queued", "warning", {"title": ""})
    assert kiosk.borrowed[0].queued
    kiosk.show(Screen.RENEW)
    assert kiosk.screen == Screen.CHECKOUT
    assert kiosk.notice == Notice("needs_connection", "warning")
    kiosk.show(Screen.PAY)
    assert kiosk.notice.code == "needs_connection"


def test_link_lost_mid_transaction_is_a_message_not_a_crash(kiosk):
    """A lost link or a bug in a call is a notice, never a traceback."""
    kiosk.card("04A1")
    kiosk.show(Screen.CHECKOUT)
    kiosk.backend.fail["checkout"] = OfflineError("down")
    kiosk.scan("B1")
    assert kiosk.notice.code == "offline" and kiosk.screen == Screen.CHECKOUT
    kiosk.backend.fail["checkout"] = RuntimeError("bug")
    kiosk.scan("B1")
    assert kiosk.notice == Notice("internal_error", "error")


def test_renew_all_and_refusals(kiosk):
    """Renew every renewable loan, or the chosen ones with their refusals counted."""
    kiosk.card("04A1")
    kiosk.show(Screen.RENEW)
    kiosk.renew()
    assert [r.loan_id for r in kiosk.renewals] == ["l1"]
    assert kiosk.notice == Notice("renewed", "info", {"ok": 1, "refused": 0})
    kiosk.renew([])
    assert kiosk.notice == Notice("nothing_to_renew", "info")
    kiosk.renew(["l1", "l2"])
    assert kiosk.notice.params == {"ok": 1, "refused": 1} and kiosk.notice.level == "warning"


def test_partial_payment_approved_is_recorded_once(kiosk):
    """A payment for chosen debts is recorded once, and logout waits for it."""
    kiosk.card("04A1")
    kiosk.show(Screen.PAY)
    kiosk.pay([])
    assert kiosk.screen == Screen.PAY and kiosk.notice == Notice("nothing_to_pay", "info")
    kiosk.pay(["d2"])
    assert kiosk.screen == Screen.PAYING and kiosk.terminal.started == [(200, "EUR")]
    assert kiosk.notice == Notice("follow_terminal", "info", {"amount": 200})
    kiosk.logout()
    assert kiosk.screen == Screen.PAYING
    kiosk.payment_done(PaymentResult("approved", 200, "T1"))
    assert kiosk.backend.payments == [(["d2"], 200, "T1")]
    assert kiosk.notice == Notice("payment_approved", "info", {"amount": 200})
    assert kiosk.screen == Screen.PAY


def test_payment_declined_or_cancelled(kiosk):
    """A declined or cancelled payment records nothing and says why."""
    kiosk.card("04A1")
    kiosk.show(Screen.PAY)
    kiosk.pay()
    assert kiosk.terminal.started == [(350, "EUR")]
    kiosk.payment_done(PaymentResult("declined", 350))
    assert kiosk.notice == Notice("payment_declined", "warning") and not kiosk.backend.payments
    kiosk.pay()
    kiosk.cancel_payment()
    assert kiosk.notice.code == "payment_cancelled" and kiosk.screen == Screen.PAY


def test_payment_approved_but_not_recorded_tells_patron_and_staff(kiosk, caplog):
    """An approved payment that cannot be queued is shown and logged with its reference."""
    kiosk.card("04A1")
    kiosk.show(Screen.PAY)
    kiosk.pay()
    kiosk.backend.fail["record_payment"] = EdgeError("disk", code="storage_failed")
    kiosk.payment_done(PaymentResult("approved", 350, "T9"))
    assert kiosk.notice == Notice("payment_not_recorded", "error", {"reference": "T9"})
    assert "T9" in caplog.text


def test_receipt_choice_then_goodbye_then_idle(kiosk):
    """Print, goodbye for goodbye_for seconds, then idle in the first language."""
    borrow_and_log_out(kiosk)
    assert kiosk.screen == Screen.RECEIPT
    kiosk.receipt("print")
    assert kiosk.receipts[0][0].text == "City Library" and kiosk.screen == Screen.GOODBYE
    assert kiosk.notice == Notice("receipt_print", "info") and kiosk.backend.receipts == []
    assert kiosk.patron is None and kiosk.account is None
    kiosk.clock.t += 4.5
    kiosk.tick()
    assert kiosk.screen == Screen.GOODBYE, "goodbye stays for goodbye_for seconds"
    kiosk.clock.t += 0.5
    kiosk.tick()
    assert kiosk.screen == Screen.IDLE and kiosk.lang == "sl" and kiosk.borrowed == []


def test_email_receipt_goes_to_the_backend_without_personal_data(kiosk):
    """The e-mailed receipt is in the chosen language and names nobody."""
    borrow_and_log_out(kiosk)
    assert kiosk.screen == Screen.RECEIPT
    assert kiosk.email_offered
    kiosk.set_language("hu")
    kiosk.receipt("email")
    assert kiosk.screen == Screen.GOODBYE and kiosk.notice.code == "receipt_email"
    [(ref, lang, subject, lines)] = kiosk.backend.receipts
    assert (ref, lang, subject) == ("p1", "hu", "Az Ön könyvtári nyugtája")
    text = [line.text for line in lines]
    assert text[:2] == ["City Library", "Bežigrad"] and "Title B9" in text
    assert not any("Ana" in x for x in text) and kiosk.receipts == []


def test_email_is_not_offered_nor_accepted_without_an_address(kiosk):
    """Without an address e-mail is neither offered nor accepted."""
    borrow_and_log_out(kiosk, "04C3")
    assert kiosk.screen == Screen.RECEIPT
    assert not kiosk.email_offered
    kiosk.receipt("email")
    assert kiosk.screen == Screen.RECEIPT and kiosk.backend.receipts == []
    kiosk.receipt("fax")
    assert kiosk.screen == Screen.RECEIPT
    kiosk.receipt("none")
    assert kiosk.screen == Screen.GOODBYE and kiosk.notice is None


def test_email_receipt_that_cannot_be_queued_says_so(kiosk):
    """A receipt e-mail that cannot be queued ends with a warning."""
    borrow_and_log_out(kiosk)
    assert kiosk.screen == Screen.RECEIPT
    kiosk.backend.fail["email_receipt"] = EdgeError("disk", code="storage_failed")
    kiosk.receipt("email")
    assert kiosk.screen == Screen.GOODBYE and kiosk.notice.code == "storage_failed"
    assert kiosk.notice.level == "warning"


def jammed(session):
    """A printer that is out of order."""
    raise EdgeError("jam", code="printer_unavailable")


def test_printer_failure_ends_with_a_warning(kiosk):
    """A printer failure ends the session with printer_unavailable."""
    kiosk.print_receipt = jammed
    borrow_and_log_out(kiosk)
    assert kiosk.screen == Screen.RECEIPT
    kiosk.receipt("print")
    assert kiosk.notice.code == "printer_unavailable" and kiosk.screen == Screen.GOODBYE


def test_logout_without_activity_skips_receipt(kiosk):
    """Nothing done: logout goes straight to goodbye."""
    kiosk.card("04A1")
    kiosk.logout()
    assert kiosk.screen == Screen.GOODBYE


def test_inactivity_warns_then_logs_out(kiosk):
    """The warning counts down after warning_after; a touch clears it; logout_after ends it."""
    kiosk.card("04A1")
    kiosk.clock.t += 44
    assert kiosk.warning_left is None
    kiosk.clock.t += 2
    assert kiosk.warning_left == 14
    kiosk.touch()
    assert kiosk.warning_left is None
    kiosk.clock.t += 60
    kiosk.tick()
    assert kiosk.screen == Screen.GOODBYE
    assert kiosk.notice == Notice("logged_out_inactive", "info") and kiosk.patron is None


def test_no_inactivity_logout_while_paying(kiosk):
    """A patron at the terminal is never logged out."""
    kiosk.card("04A1")
    kiosk.show(Screen.PAY)
    kiosk.pay()
    kiosk.clock.t += 600
    kiosk.tick()
    assert kiosk.screen == Screen.PAYING


def test_inputs_on_the_wrong_screen_are_ignored(kiosk):
    """Scans, taps and buttons meant for another screen change nothing."""
    kiosk.scan("B1")
    kiosk.renew()
    kiosk.pay()
    kiosk.enter_pin("1234")
    kiosk.receipt("print")
    kiosk.show(Screen.PAY)
    assert kiosk.screen == Screen.IDLE and kiosk.receipts == []


def test_scanner_identifies_at_idle_and_borrows_from_the_account_screen(kiosk):
    """The scanner reads a library card at idle and an item elsewhere."""
    kiosk.barcode("04A1")
    assert kiosk.screen == Screen.ACCOUNT and kiosk.patron == ANA
    assert kiosk.backend.identified == [("04A1", "barcode")]
    kiosk.barcode("B7")
    assert kiosk.screen == Screen.CHECKOUT and [b.barcode for b in kiosk.borrowed] == ["B7"]
    kiosk.show(Screen.RENEW)
    kiosk.barcode("B8")
    assert kiosk.screen == Screen.RENEW and len(kiosk.borrowed) == 1


def test_without_a_terminal_paying_is_sent_to_the_desk():
    """Without a terminal the pay screen sends the patron to the desk."""
    s = Session(FakeBackend(), Terminal(), lambda sess: None,
                Settings(can_pay=False), clock=Clock())
    s.card("04A1")
    s.show(Screen.PAY)
    assert s.screen == Screen.ACCOUNT and s.notice == Notice("pay_at_desk", "info")


class Cues:
    """A Sounder that remembers what it was asked to play."""

    def __init__(self):
        """Nothing played yet."""
        self.played = []
        self.said = []

    def cue(self, kind, words="", lang="en"):
        """Remember the cue, and the words with it."""
        self.played.append(kind)
        self.said.append((words, lang))

    def close(self):
        """Nothing to let go of."""


@pytest.fixture
def staff():
    """A session with a restart hook and a remembering sounder."""
    restarts = []
    s = Session(FakeBackend(), Terminal(), lambda sess: None,
                Settings(warning_after=45, logout_after=60, goodbye_for=5), clock=Clock(),
                on_restart=lambda: restarts.append(s.screen), sounder=Cues())
    s.restarts = restarts
    return s


def test_restart_only_from_the_maintenance_screen(staff):
    """Restart needs the maintenance screen and a second tap within 5 s."""
    staff.restart()
    staff.card("04A1")
    staff.restart()
    assert staff.restarts == []
    staff.logout()
    staff.clock.t += 5
    staff.tick()
    staff.card("04FF")
    staff.restart()
    assert staff.restarts == [] and staff.notice == Notice("restart_confirm", "warning")
    staff.clock.t += 6
    staff.restart()
    assert staff.restarts == [], "a second tap after the window only asks again"
    staff.clock.t += 5
    staff.restart()
    assert staff.restarts == [Screen.MAINTENANCE], "a tap 5 s later is still within the window"
    assert staff.notice == Notice("restarting", "info")


def test_restart_without_a_way_to_restart_does_nothing(kiosk):
    """Without a restart hook the button does nothing."""
    kiosk.card("04FF")
    kiosk.restart()
    assert kiosk.screen == Screen.MAINTENANCE and kiosk.notice is None


def test_leave_maintenance_goes_straight_to_idle(staff):
    """Close on maintenance goes to idle in the first language; elsewhere it does nothing."""
    staff.card("04A1")
    staff.leave()
    assert staff.screen == Screen.ACCOUNT
    staff.logout()
    staff.clock.t += 5
    staff.tick()
    staff.set_language("hu")
    staff.card("04FF")
    staff.leave()
    assert staff.screen == Screen.IDLE and staff.patron is None and staff.lang == "sl"


def test_maintenance_screen_logs_out_when_left_alone(staff):
    """The maintenance screen logs out when left alone like any other."""
    staff.card("04FF")
    staff.clock.t += 46
    assert staff.warning_left == 14
    staff.clock.t += 14
    staff.tick()
    assert staff.screen == Screen.GOODBYE and staff.notice.code == "logged_out_inactive"


def test_each_notice_cues_by_its_level(staff):
    """Errors, successes and warnings each sound their own cue."""
    staff.card("9999")
    staff.card("04A1")
    staff.show(Screen.CHECKOUT)
    staff.scan("B9")
    staff.scan("CD1")
    staff.backend.online = False
    staff.show(Screen.RENEW)
    assert staff.sounder.played == ["error", "ok", "warning", "warning"]


def test_each_cue_carries_the_words_the_screen_shows_for_a_speaker(staff):
    """A speaker that speaks says what the notice says, in the patron's language."""
    staff.set_language("sl")
    staff.card("9999")
    assert staff.sounder.said == [(Translator("sl").notice("card_unknown"), "sl")]
    staff.card("04A1")
    staff.set_language("sl")
    staff.clock.t += 46
    staff.tick()
    assert staff.sounder.said[-1] == ("Čez 14 s boste odjavljeni. Dotaknite se zaslona, če "
                                      "želite ostati.", "sl")


def test_inactivity_warning_cues_once_each_time_it_appears(staff):
    """The trill sounds when the warning appears, not before it, and not again while it shows."""
    staff.card("04A1")
    heard = []
    for step in (40, 6, 5):
        staff.clock.t += step
        staff.tick()
        heard.append(list(staff.sounder.played))
    assert heard == [[], ["attention"], ["attention"]]
    staff.touch()
    staff.tick()
    assert staff.sounder.played == ["attention"]
    staff.clock.t += 50
    staff.tick()
    assert staff.sounder.played == ["attention", "attention"]


def test_a_broken_buzzer_is_logged_not_raised(staff, caplog):
    """A failing buzzer is logged and the session goes on."""
    def broken(kind, words, lang):
        """A buzzer whose pin is gone."""
        raise OSError("pin gone")

    staff.sounder.cue = broken
    staff.card("9999")
    assert staff.notice.code == "card_unknown" and "sounder failed" in caplog.text


REFUSALS = ["item_unknown", "in_library_only", "item_other_branch", "reserved_for_other",
            "hold_waiting", "loan_limit", "debt_over_limit", "patron_blocked", "membership_expired",
            "item_on_loan", "already_borrowed", "item_unavailable", "item_in_transit",
            "category_not_allowed", "same_title_now", "same_title_before", "ib_other_patron",
            "registration_incomplete", "offline_limit", "timeout", "offline"]


@pytest.mark.parametrize("code", REFUSALS)
def test_each_checkout_refusal_is_its_own_translated_message(kiosk, code):
    """Every refusal code is its own message in every language."""
    from kiosk.i18n import LANGUAGES, Translator

    kiosk.card("04A1")
    kiosk.show(Screen.CHECKOUT)
    kiosk.backend.fail["checkout"] = EdgeError("refused", code=code)
    kiosk.scan("B1")
    assert kiosk.screen == Screen.CHECKOUT and kiosk.notice.code == code
    assert kiosk.notice.level == "error" and not kiosk.borrowed
    for lang in LANGUAGES:
        fallback = Translator(lang).notice("no_such_code")
        assert Translator(lang).notice(code) not in ("", fallback), (lang, code)


def test_without_a_printer_print_is_not_offered_and_no_choice_skips_the_question():
    """No printer: print is ignored, and with no e-mail either the question is skipped."""
    s = Session(FakeBackend(), Terminal(), lambda sess: pytest.fail("printed"),
                Settings(can_print=False), clock=Clock())
    s.backend.cards["04A1"] = msgspec.structs.replace(ANA, email_on_file=False)
    borrow_and_log_out(s, barcode="B1")
    assert s.screen == Screen.GOODBYE, "nothing to choose: no printer and no e-mail address"
    s.clock.t += 10
    s.tick()
    s.backend.cards["04A1"] = ANA
    borrow_and_log_out(s, barcode="B2")
    assert s.screen == Screen.RECEIPT
    s.receipt("print")
    assert s.screen == Screen.RECEIPT, "print is ignored without a printer"
    s.receipt("email")
    assert s.screen == Screen.GOODBYE and s.notice.code == "receipt_email"


def test_the_simulated_terminal_reports_each_payment_once():
    """The simulated terminal reports one result per payment, cancel or not."""
    import threading

    from kiosk.payment import SimulatedTerminal

    terminal, results, answered = SimulatedTerminal(delay=0.0), [], threading.Event()

    def done(result):
        """Remember the outcome and wake the test."""
        results.append(result.outcome)
        answered.set()

    terminal.start(500, "EUR", done)
    assert answered.wait(5)
    terminal.cancel()                    # too late: the approval already went out
    assert results == ["approved"]
    slow = SimulatedTerminal(delay=60.0)
    slow.start(500, "EUR", done)
    slow.cancel()
    slow.cancel()
    assert results == ["approved", "cancelled"]


def test_a_renewal_alone_is_worth_a_receipt(kiosk):
    """Renewing without borrowing or paying still offers a receipt."""
    kiosk.card("04A1")
    kiosk.show(Screen.RENEW)
    kiosk.renew()
    kiosk.logout()
    assert kiosk.screen == Screen.RECEIPT


def test_a_patron_cannot_open_the_staff_or_payment_screens_directly(kiosk):
    """Only the patron screens can be navigated to; maintenance needs a staff card."""
    kiosk.card("04A1")
    for screen in (Screen.MAINTENANCE, Screen.PAYING, Screen.RECEIPT, Screen.IDLE):
        kiosk.show(screen)
        assert kiosk.screen == Screen.ACCOUNT


def test_coming_back_to_the_account_shows_it_fresh_from_central(kiosk):
    """The account screen is reloaded each time the patron returns to it, not on other screens."""
    kiosk.card("04A1")
    kiosk.show(Screen.CHECKOUT)
    paid_up = msgspec.structs.replace(ACCOUNT, debts=[])
    kiosk.backend.summary = paid_up
    kiosk.show(Screen.RENEW)
    assert kiosk.account == ACCOUNT, "another screen does not reload the account"
    kiosk.show(Screen.ACCOUNT)
    assert kiosk.account == paid_up


def test_a_one_cent_debt_is_paid_and_the_receipt_shows_the_account_s_currency(kiosk):
    """The smallest debt goes to the terminal, and the receipt prints central's currency."""
    kiosk.backend.summary = Account(debts=[Debt("d9", "fine", 1)], currency="CZK")
    kiosk.card("04A1")
    kiosk.show(Screen.PAY)
    kiosk.pay()
    assert kiosk.screen == Screen.PAYING and kiosk.terminal.started == [(1, "CZK")]
    kiosk.payment_done(PaymentResult("approved", 1, "T1"))
    kiosk.logout()
    kiosk.receipt("print")
    [lines] = kiosk.receipts
    assert any("CZK" in line.text for line in lines)
    assert not any("EUR" in line.text or "€" in line.text for line in lines)
