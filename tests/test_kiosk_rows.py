"""What the account and checkout screens list, in the patron's language, without Kivy."""

from datetime import date

from kiosk.i18n import Translator
from kiosk.rows import borrowed_rows
from patron_ui.models import Account, Borrowed, Debt, Hold, Loan, OwedElsewhere
from patron_ui.rows import AccountTexts, account_rows

TODAY = date(2026, 11, 30)
ACCOUNT = Account(
    loans=[Loan("l1", "Cankar", "B1", date(2026, 12, 3), True),
           Loan("l2", "Kosovel", "B2", date(2026, 11, 27), False, "renewal_limit"),
           Loan("l3", "Pahor", "B3", TODAY, True)],
    holds=[Hold("h1", "Jančar", "ready", pickup_by=date(2026, 12, 5)),
           Hold("h2", "Karlin", "waiting", position=2), Hold("h3", "Vega", "in_transit")],
    debts=[Debt("d1", "fine", 240, "Kosovel"), Debt("d2", "lost_item_fee", 990)])


def test_loans_say_when_due_or_since_when_overdue_and_whether_renewable():
    rows = account_rows(AccountTexts("en"), ACCOUNT, TODAY)["loans"]
    assert [r["detail"] for r in rows] == [
        "due 3 Dec 2026", "overdue since 27 Nov 2026 · cannot be renewed", "due 30 Nov 2026"]
    assert [r["selectable"] for r in rows] == [True, False, True]
    assert [r["level"] for r in rows] == ["", "bad", ""]  # overdue is marked, due today is not
    sl = account_rows(AccountTexts("sl"), ACCOUNT, TODAY)["loans"][1]["detail"]
    assert sl.startswith("rok vrnitve je potekel 27. nov. 2026")


def test_holds_and_fees_are_described():
    rows = account_rows(AccountTexts("en"), ACCOUNT, TODAY)
    assert [(r["detail"], r["level"]) for r in rows["holds"]] == [
        ("pick up by 5 Dec 2026", "ok"), ("Waiting number 2 in the queue", ""),
        ("On the way", "")]
    assert [r["title"] for r in rows["debts"]] == ["Late fee", "lost_item_fee"]
    assert [r["detail"] for r in rows["debts"]] == ["Kosovel · €2.40", "€9.90"]
    assert account_rows(AccountTexts("en"), None, TODAY) == {"loans": [], "holds": [], "debts": []}


def test_borrowed_now_shows_due_dates_or_the_offline_note():
    rows = borrowed_rows(Translator("en"), [Borrowed("B1", "Cankar", date(2026, 12, 21)),
                                            Borrowed("B9", "", None, queued=True)])
    assert [(r["title"], r["detail"][:7]) for r in rows] == [("Cankar", "due 21 "),
                                                             ("B9", "Working")]


def test_what_is_owed_at_other_branches_is_shown_to_pay_there_never_chosen_here():
    """With the network debt limit the kiosk lists the other branches' debts, read-only."""
    account = Account(debts=[Debt("d1", "fine", 240, "Kosovel")],
                      elsewhere=[OwedElsewhere("Šiška Library", 900)])
    rows = account_rows(AccountTexts("en"), account, TODAY)["debts"]
    assert [(r["title"], r["detail"], r["selectable"]) for r in rows[1:]] == [
        ("Owed at Šiška Library", "€9.00 · to be paid there", False)]
    assert account.owed == 240
    sl = account_rows(AccountTexts("sl"), account, TODAY)["debts"][1]
    assert sl["title"] == "Dolg v enoti Šiška Library"
