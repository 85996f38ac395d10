"""The generated network is consistent, and the domain works on it."""

from datetime import date

import pytest

from central.circulation import accounts, loans, sample, summary
from central.circulation.store import Store
from central.store import open_store


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    s = Store(open_store(str(tmp_path_factory.mktemp("sample") / "c.db")))
    s.made = sample.generate(s, branches=6, patrons=2000, items=8000, days=365, seed=3)
    return s


def test_it_made_a_network_with_history(s):
    assert s.made["branches"] == 6 and s.made["open_loans"] > 300 and s.made["holds"] > 20
    assert s.scalar("SELECT count(DISTINCT category) FROM patrons") == 6
    assert s.scalar("SELECT count(*) FROM cards WHERE kind = 'city'") == 1400


def test_items_on_loan_match_open_loans_and_due_dates_are_open_days(s):
    assert not s.rows("SELECT i.id FROM items i LEFT JOIN loans l ON l.item_id = i.id AND"
                      " l.returned_at IS NULL WHERE (i.status = 'on_loan') != (l.id IS NOT NULL)")
    for loan in s.rows("SELECT branch_id, due FROM loans ORDER BY random() LIMIT 500"):
        assert s.calendar(loan["branch_id"]).is_open(date.fromisoformat(loan["due"]))
    assert s.scalar("SELECT max(returned_at) FROM loans") <= s.now().isoformat()


def test_each_copy_has_one_loan_at_a_time_returned_after_it_was_lent(s):
    assert not s.scalar("SELECT count(*) FROM loans WHERE returned_at <= out_at")
    assert not s.scalar(
        "SELECT count(*) FROM loans a JOIN loans b ON a.item_id = b.item_id AND a.id < b.id"
        " AND b.out_at < coalesce(a.returned_at, '9999') AND a.out_at < coalesce(b.returned_at,"
        " '9999')")


def test_holds_are_on_titles_with_copies_at_their_branch_and_books_balance(s):
    assert not s.rows("SELECT h.id FROM holds h WHERE NOT EXISTS (SELECT 1 FROM items i"
                      " WHERE i.title_id = h.title_id AND i.home_branch = h.branch_id)")
    for (pid,) in s.db.execute("SELECT DISTINCT patron_id FROM debts LIMIT 200").fetchall():
        debts = s.scalar("SELECT sum(amount) FROM debts WHERE patron_id = ?", [pid])
        paid = s.scalar("SELECT coalesce(sum(amount), 0) FROM payments WHERE patron_id = ?",
                        [pid])
        assert accounts.owed(s, pid) - accounts.credit(s, pid) == debts - paid


def test_the_domain_works_on_generated_data(s):
    item = s.row("SELECT i.barcode, i.home_branch FROM items i WHERE i.status = 'available'"
                 " AND i.category = 'book' LIMIT 1")
    pid = s.scalar("SELECT id FROM patrons WHERE status = 'active' AND NOT blocked AND"
                   " valid_until > ? AND category = 'adult' AND NOT EXISTS (SELECT 1 FROM debts"
                   " d WHERE d.patron_id = patrons.id) LIMIT 1", [s.now().date().isoformat()])
    done = loans.checkout(s, pid, item["barcode"], item["home_branch"])
    view = summary.summary(s, pid, item["home_branch"])
    assert item["barcode"] in [loan["barcode"] for loan in view["loans"]]
    assert loans.renew(s, done["loan"], days=7)["ok"]
    assert loans.checkin(s, item["barcode"], item["home_branch"])["route"] in (
        "reshelve", "hold_shelf")


def test_tiny_demo_library_has_the_demo_cards(tmp_path):
    s = Store(open_store(str(tmp_path / "t.db")))
    sample.tiny(s)
    for uid, *_ in sample.DEMO_CARDS:
        assert s.scalar("SELECT patron_id FROM cards WHERE uid = ?", [uid])
