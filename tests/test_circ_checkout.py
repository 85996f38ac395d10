"""Verbis (SEEDS 002) checkout, return and renewal rules, step by step, with TextLib's branches."""

from datetime import date, timedelta

import pytest

from central.circulation import (
    accounts,
    audit,
    branches,
    catalogue,
    holds,
    loans,
    patrons,
    settings,
    summary,
)
from central.circulation.errors import NotFound
from tests.circ import DESK, copy, library, patron, refused


@pytest.fixture
def s(central_db):
    """A fresh library with three branches, on each store."""
    return library(central_db)


def test_items_are_found_by_barcode_accession_or_call_number_case_sensitively(s):
    """Items resolve by barcode, accession or call number, case-sensitively."""
    copy(s, "Ab12", "Alamut", accession="INV-1", call_number="821.163.6 BARTOL")
    assert catalogue.resolve(s, "Ab12")["title"] == "Alamut"
    assert catalogue.resolve(s, "INV-1")["barcode"] == "Ab12"
    assert catalogue.resolve(s, "821.163.6 BARTOL")["barcode"] == "Ab12"
    with pytest.raises(NotFound):
        catalogue.resolve(s, "AB12")
    copy(s, "Ab13", "Alamut", call_number="821.163.6 BARTOL")
    refused("item_ambiguous", catalogue.resolve, s, "821.163.6 BARTOL")


def test_checkout_gives_a_due_date_on_an_open_day_of_the_branch(s):
    """The due date moves past the lending branch's own closed days only."""
    copy(s, "B1", "Alamut")
    pid = patron(s)
    # 2026-03-02 + 21 days = Monday 23 March; closing it moves the due date to the 24th.
    branches.set_closed_days(s, 2026, {date(2026, 3, 23): "inventory"}, branch="center")
    done = loans.checkout(s, pid, "B1", "center")
    assert done["due"] == "2026-03-24"
    # the other branches keep the library-wide calendar
    copy(s, "B2", "Alamut", "siska")
    assert loans.checkout(s, patron(s, "Kos"), "B2", "siska")["due"] == "2026-03-23"


def test_sunday_and_holiday_due_dates_move_to_the_next_open_day(s):
    """A due date on a holiday moves to the next open day."""
    copy(s, "B1", "Alamut")
    s.clock.advance(days=34)   # Monday 6 April 2026 + 21 = Monday 27 April, Resistance Day
    assert loans.checkout(s, patron(s), "B1", "center")["due"] == "2026-04-28"


def test_patron_checks_blocked_expired_unfinished_and_debt(s):
    """Blocked, indebted, unfinished and expired patrons are refused with their codes."""
    copy(s, "B1", "Alamut")
    pid = patron(s)
    patrons.set_blocked(s, pid, True)
    refused("patron_blocked", loans.checkout, s, pid, "B1", "center")
    patrons.set_blocked(s, pid, False)
    accounts.add_debt(s, pid, "center", "fine", 1500)
    refused("debt_over_limit", loans.checkout, s, pid, "B1", "center")
    staff = loans.checkout(s, pid, "B1", "center", overrides=frozenset({"debt_over_limit"}),
                           actor=DESK)
    assert staff["barcode"] == "B1"                    # staff may pass a patron check
    loans.checkin(s, "B1", "center")
    settings.store(s.db, debt_limit=None)
    s.forget()
    assert loans.checkout(s, pid, "B1", "center")["barcode"] == "B1"
    pre = patrons.add_patron(s, "Zupan", "adult", branch="center", status="pre")
    copy(s, "B2", "Other")
    refused("registration_incomplete", loans.checkout, s, pre, "B2", "center")
    old = patron(s, "Old")
    s.clock.advance(days=400)
    refused("membership_expired", loans.checkout, s, old, "B2", "center")


def test_each_patron_check_can_be_switched_off(s):
    """With check_blocked off a blocked patron borrows."""
    copy(s, "B1", "Alamut")
    pid = patron(s)
    patrons.set_blocked(s, pid, True)
    settings.store(s.db, check_blocked=False)
    s.forget()
    assert loans.checkout(s, pid, "B1", "center")


def test_category_matrix_and_in_library_only_and_attachments(s):
    """The category matrix, in-library-only items and attachments shape a checkout."""
    copy(s, "D1", "Film", category="dvd", attachments="booklet")
    copy(s, "R1", "Lexicon", category="reference")
    child = patron(s, "Mali", "child")
    refused("category_not_allowed", loans.checkout, s, child, "D1", "center")
    adult = patron(s)
    done = loans.checkout(s, adult, "D1", "center")
    assert done["warnings"] == ["attachments"] and done["attachments"] == "booklet"
    assert done["due"] == "2026-03-09"   # DVDs: 7 days
    refused("in_library_only", loans.checkout, s, adult, "R1", "center")
    staff_lent = loans.checkout(s, adult, "R1", "center",
                                overrides=frozenset({"in_library_only"}), actor=DESK)
    assert "in_library_only" in staff_lent["warnings"]


def test_loan_limits_per_item_category(s):
    """The rule's per-category limit stops the sixth DVD."""
    for n in range(6):
        copy(s, f"D{n}", f"Film {n}", category="dvd")
    pid = patron(s)
    for n in range(5):
        loans.checkout(s, pid, f"D{n}", "center")
    refused("loan_limit", loans.checkout, s, pid, "D5", "center")


def test_same_title_now_and_before_by_setting(s):
    """Same-title checks warn or block as set, and staff may pass them."""
    copy(s, "B1", "Alamut")
    copy(s, "B2", "Alamut")
    pid = patron(s)
    loans.checkout(s, pid, "B1", "center")
    assert loans.checkout(s, pid, "B2", "center")["warnings"] == ["same_title_now"]
    loans.checkin(s, "B1", "center")
    loans.checkin(s, "B2", "center")
    settings.store(s.db, same_title_now="block", same_title_before="block")
    s.forget()
    refused("same_title_before", loans.checkout, s, pid, "B1", "center",
            said="check same_title_before refused the loan")
    loans.checkout(s, pid, "B1", "center", overrides=frozenset({"same_title_before"}),
                   actor=DESK)
    refused("same_title_now", loans.checkout, s, pid, "B2", "center")


def test_unknown_item_error_generic_or_quick_catalogue(s):
    """An unknown item is refused, lent as generic, or quick-catalogued, as set."""
    pid = patron(s)
    refused("item_unknown", loans.checkout, s, pid, "NEW1", "center")
    settings.store(s.db, unknown_item="generic")
    s.forget()
    done = loans.checkout(s, pid, "NEW1", "center")
    assert "generic_item" in done["warnings"] and catalogue.resolve(s, "NEW1")["generic"] == 1
    settings.store(s.db, unknown_item="quick")
    s.forget()
    done = loans.checkout(s, pid, "NEW2", "center", title="Brand new novel")
    assert done["title"] == "Brand new novel" and "quick_catalogued" in done["warnings"]
    assert s.scalar("SELECT quick FROM titles WHERE title = 'Brand new novel'") == 1


def test_only_the_branch_own_items_are_lent_there(s):
    """Another branch's item is not lent here."""
    copy(s, "S1", "Alamut", "siska")
    refused("item_other_branch", loans.checkout, s, patron(s), "S1", "center")


def test_item_out_is_refused_and_offers_a_hold(s):
    """An item out is refused (to its borrower as already borrowed) and can be held."""
    copy(s, "B1", "Alamut")
    a, b = patron(s), patron(s, "Kos")
    loans.checkout(s, a, "B1", "center")
    refused("item_on_loan", loans.checkout, s, b, "B1", "center")
    refused("already_borrowed", loans.checkout, s, a, "B1", "center")
    assert holds.place(s, b, "B1", "center")["position"] == 1


def test_return_goes_to_whoever_borrowed_it_with_a_late_fine(s):
    """A return closes the borrower's loan and charges the fine per day late."""
    copy(s, "B1", "Alamut")
    a, b = patron(s), patron(s, "Kos")
    loans.checkout(s, a, "B1", "center")
    s.clock.advance(days=21 + 10)   # due 23 March, returned 2 April: 10 days late
    back = loans.checkin(s, "B1", "center", patron_id=b)
    assert back["patron"] == a and "returned_by_other" in back["warnings"]
    assert back["fine"] == 200 and back["late_days"] == 10
    assert [(d["kind"], d["open"]) for d in accounts.debts(s, a)] == [("fine", 200)]
    assert back["route"] == "reshelve"


def test_fines_are_capped(s):
    """A very late return is charged the cap, not days times rate."""
    copy(s, "B1", "Alamut")
    a = patron(s)
    loans.checkout(s, a, "B1", "center")
    s.clock.advance(days=200)
    assert loans.checkin(s, "B1", "center")["fine"] == 1000


def test_return_with_waiting_hold_sets_it_aside_with_a_pickup_deadline_and_notice(s):
    """A returned item with a hold goes to the hold shelf for the first in line, with a notice."""
    copy(s, "B1", "Alamut")
    a, b, c = patron(s), patron(s, "Kos"), patron(s, "Bizjak")
    loans.checkout(s, a, "B1", "center")
    holds.place(s, b, "B1", "center")
    s.clock.advance(hours=1)
    holds.place(s, c, "B1", "center")
    back = loans.checkin(s, "B1", "center")
    assert back["route"] == "hold_shelf" and back["hold_patron"] == b and back["patron"] == a
    assert "hold_waiting" in back["warnings"]
    assert back["pickup_by"] == "2026-03-10"   # 7 open days after Monday 2 March
    assert s.scalar("SELECT kind FROM notices WHERE patron_id = ?", [b]) == "hold_ready"
    refused("reserved_for_other", loans.checkout, s, c, "B1", "center",
            said="the item is set aside for another patron")
    assert loans.checkout(s, b, "B1", "center")
    assert s.scalar("SELECT state FROM holds WHERE patron_id = ?", [b]) == "fulfilled"


def test_staff_may_lend_a_set_aside_item_out_of_turn(s):
    """Staff may lend a set-aside item; the hold goes back to waiting first in line."""
    copy(s, "B1", "Alamut")
    a, b, c = patron(s), patron(s, "Kos"), patron(s, "Bizjak")
    loans.checkout(s, a, "B1", "center")
    holds.place(s, b, "B1", "center")
    loans.checkin(s, "B1", "center")
    done = loans.checkout(s, c, "B1", "center",
                          overrides=frozenset({"reserved_for_other"}), actor=DESK)
    assert "reserved_for_other" in done["warnings"]
    assert holds.hold(s, 1)["state"] == "waiting" and holds.hold(s, 1)["position"] == 1


def test_return_of_another_branch_item_is_refused_or_sent_home_by_setting(s):
    """TextLib refuses it ("the item belongs to another branch's collection!"); a network of
    return boxes may take it, send it home in transit and shelve it there."""
    copy(s, "S1", "Alamut", "siska")
    a = patron(s)
    loans.checkout(s, a, "S1", "siska")
    refused("item_other_branch", loans.checkin, s, "S1", "center",
            said="the item belongs to another branch's collection")
    assert s.scalar("SELECT count(*) FROM loans WHERE returned_at IS NULL") == 1
    settings.store(s.db, other_branch_returns="transit")
    s.forget()
    back = loans.checkin(s, "S1", "center")
    assert (back["route"], back["to"]) == ("transit", "siska")
    assert loans.checkin(s, "S1", "bezigrad")["to"] == "siska"   # still travelling
    arrived = loans.checkin(s, "S1", "siska")
    assert (arrived["route"], arrived["warnings"]) == ("reshelve", [])
    assert catalogue.resolve(s, "S1")["status"] == "available"


def test_renewal_refused_when_a_hold_waits_or_the_limit_is_reached(s):
    """Renewal is refused past the rule's count or when a hold waits."""
    copy(s, "B1", "Alamut")
    copy(s, "D1", "Film", category="dvd")
    a, b = patron(s), patron(s, "Kos")
    book = loans.checkout(s, a, "B1", "center")["loan"]
    dvd = loans.checkout(s, a, "D1", "center")["loan"]
    s.clock.advance(days=5)
    assert loans.renew(s, dvd)["due"] == "2026-03-14"   # 7 March + 7, a Saturday
    refused("renewal_limit", loans.renew, s, dvd)
    holds.place(s, b, "B1", "center")
    refused("hold_waiting", loans.renew, s, book)
    view = {x["barcode"]: x for x in summary.summary(s, a, "center")["loans"]}
    assert (view["B1"]["renewable"], view["B1"]["refusal"]) == (False, "hold_waiting")
    assert view["D1"]["refusal"] == "renewal_limit"


def test_renew_all_at_chosen_branches_by_n_days(s):
    """Renew-all at chosen branches moves due dates by N days."""
    copy(s, "B1", "Alamut")
    copy(s, "S1", "Kekec", "siska")
    a = patron(s)
    loans.checkout(s, a, "B1", "center")
    loans.checkout(s, a, "S1", "siska")
    out = loans.renew_all(s, a, branches=["siska"], days=10)
    assert [(o["barcode"], o["due"]) for o in out] == [("S1", "2026-04-02")]
    s.clock.advance(days=7)
    assert loans.renew(s, 1, at=["center"])["ok"]
    refused("item_other_branch", loans.renew, s, 2, at=["center"])


def test_change_of_home_branch_only_while_free(s):
    """An item's home branch changes only while it is not on loan."""
    copy(s, "B1", "Alamut")
    loans.checkout(s, patron(s), "B1", "center")
    refused("item_not_free", catalogue.change_home_branch, s, "B1", "siska")
    loans.checkin(s, "B1", "center")
    catalogue.change_home_branch(s, "B1", "siska")
    assert catalogue.resolve(s, "B1")["home_branch"] == "siska"


def test_staff_login_chooses_an_assigned_branch_and_warns_on_change(s):
    """Staff log in at assigned branches only, warned when the branch changed."""
    branches.add_staff(s, "maja", "Maja", "clerk", ["center", "siska"])
    assert branches.login(s, "maja", "center") == []
    assert branches.login(s, "maja", "siska") == ["branch_changed"]
    with pytest.raises(Exception) as exc:
        branches.login(s, "maja", "bezigrad")
    assert exc.value.code == "branch_not_assigned"


def test_due_dates_always_land_on_open_days(s):
    """Every due date over a year lands on an open day."""
    cal = s.calendar("center")
    for offset in range(0, 400, 3):
        day = date(2026, 1, 1) + timedelta(days=offset)
        assert cal.is_open(cal.due_date(day, 21))


@pytest.mark.parametrize("late, fine", [(-3, 0), (0, 0), (1, 50), (2, 100), (40, 1000)])
def test_the_fine_is_per_day_late_from_the_first_day_and_capped(late, fine):
    """The fine is rate times days late from day one, capped unless the cap is 0."""
    rule = {"fine_per_day": 50, "fine_cap": 1000}
    due = date(2026, 3, 2)
    assert loans.fine_for(rule, due, due + timedelta(days=late)) == fine
    assert loans.fine_for(rule | {"fine_per_day": 0}, due, due + timedelta(days=late)) == 0
    assert loans.fine_for(rule | {"fine_cap": 0}, due, due + timedelta(days=40)) == 2000


def test_refusals_name_the_rule_in_words_for_the_desk(s):
    """Each loan refusal carries its code and the words the staff tools show beside it."""
    copy(s, "B1", "Alamut")
    copy(s, "D1", "Film", category="dvd")
    copy(s, "R1", "Lexicon", category="reference")
    copy(s, "S1", "Kekec", "siska")
    a, child = patron(s), patron(s, "Mali", "child")
    refused("item_unknown", loans.checkout, s, a, "NOPE", "center", said="no item 'NOPE'")
    refused("category_not_allowed", loans.checkout, s, child, "D1", "center",
            said="this patron category may not borrow this kind of item")
    refused("in_library_only", loans.checkout, s, a, "R1", "center",
            said="for use in the library only")
    other_branch = "the item belongs to another branch's collection"
    refused("item_other_branch", loans.checkout, s, a, "S1", "center", said=other_branch)
    loan = loans.checkout(s, a, "B1", "center")["loan"]
    refused("item_on_loan", loans.checkout, s, child, "B1", "center", said="the item is on loan")
    refused("item_other_branch", loans.renew, s, loan, at=["siska"], said=other_branch)
    refused("loan_unknown", loans.renew, s, 999, said="no open loan 999")
    refused("loan_unknown", loans.renew, s, loan, patron_id=child, said=f"no open loan {loan}")
    s.clock.advance(days=1)
    assert loans.renew(s, loan, patron_id=a)["ok"]
    refused("not_on_loan", loans.checkin, s, "D1", "center", said="the item is not on loan")
    holds.place(s, child, "B1", "center")
    refused("hold_waiting", loans.renew, s, loan, said="renewal refused: hold_waiting")


def test_lost_and_withdrawn_copies_are_not_lent(s):
    """A copy the inventory marked lost or withdrawn is refused at the desk."""
    for barcode, status in (("B1", "lost"), ("B2", "withdrawn")):
        s.update("items", copy(s, barcode, "Alamut"), {"status": status})
        refused("item_unavailable", loans.checkout, s, patron(s), barcode, "center",
                said="the item cannot be lent")


def test_a_switched_off_check_neither_refuses_nor_warns(s):
    """same_title_now "off" lends a second copy of a title out without a word; with both
    title checks on "warn", a title out now warns only that it is out now."""
    for barcode in ("B1", "B2", "B3"):
        copy(s, barcode, "Alamut")
    pid = patron(s)
    loans.checkout(s, pid, "B1", "center")
    settings.store(s.db, same_title_now="off")
    s.forget()
    assert loans.checkout(s, pid, "B2", "center")["warnings"] == []
    settings.store(s.db, same_title_now="warn", same_title_before="warn")
    s.forget()
    assert loans.checkout(s, pid, "B3", "center")["warnings"] == ["same_title_now"]


def test_the_patron_category_limit_counts_every_loan_and_staff_may_pass_it(s):
    """A category allowing 2 items: a book and a magazine, then a third is refused; staff may
    pass the limit, and with check_rules off the limit stops nobody."""
    catalogue.add_patron_category(s, "trial", "Trial", max_items=2)
    copy(s, "B1", "Alamut")
    copy(s, "M1", "Mladina", category="magazine")
    copy(s, "B2", "Kekec")
    copy(s, "B3", "Cvetje v jeseni")
    pid = patron(s, "Kos", "trial")
    loans.checkout(s, pid, "B1", "center")
    loans.checkout(s, pid, "M1", "center")
    refused("loan_limit", loans.checkout, s, pid, "B2", "center",
            said="the patron has reached the loan limit")
    assert loans.checkout(s, pid, "B2", "center", overrides=frozenset({"loan_limit"}),
                          actor=DESK)
    settings.store(s.db, check_rules=False)
    s.forget()
    assert loans.checkout(s, pid, "B3", "center")["barcode"] == "B3"


def test_a_generic_item_is_lent_as_a_book(s):
    """An unknown barcode lent as a generic item is catalogued as a book, with its period."""
    settings.store(s.db, unknown_item="generic")
    s.forget()
    done = loans.checkout(s, patron(s), "NEW1", "center")
    assert catalogue.resolve(s, "NEW1")["category"] == "book" and done["due"] == "2026-03-23"


def test_a_loan_shows_the_author_and_the_copy_is_out(s):
    """The checkout answer names title and author; the catalogue shows the copy on loan."""
    copy(s, "B1", "Alamut")
    done = loans.checkout(s, patron(s), "B1", "center")
    assert (done["title"], done["author"]) == ("Alamut", "Author")
    assert catalogue.resolve(s, "B1")["status"] == "on_loan"


def test_a_return_warns_only_about_what_applies(s):
    """On time: no fine, no days late; no 'returned by another' when the borrower or nobody
    is named; an attachments warning when the item has some."""
    copy(s, "D1", "Film", category="dvd", attachments="booklet")
    copy(s, "B1", "Alamut")
    a = patron(s)
    loans.checkout(s, a, "D1", "center")
    loans.checkout(s, a, "B1", "center")
    back = loans.checkin(s, "D1", "center", patron_id=a)
    assert (back["fine"], back["late_days"], back["warnings"]) == (0, 0, ["attachments"])
    back = loans.checkin(s, "B1", "center")
    assert (back["patron"], back["warnings"]) == (a, [])


def test_a_copy_travelling_home_is_sent_on_and_set_aside_for_a_hold_there(s):
    """Another branch's copy passing a third branch is sent on (with what it is, no fine, no
    borrower); it cannot be lent at home while travelling; arrived, a waiting hold gets it."""
    settings.store(s.db, other_branch_returns="transit")   # a network of return boxes
    s.forget()
    copy(s, "S1", "Kekec", "siska", attachments="CD")
    a, b = patron(s), patron(s, "Kos")
    loans.checkout(s, a, "S1", "siska")
    holds.place(s, b, "S1", "siska")
    loans.checkin(s, "S1", "center")
    onward = loans.checkin(s, "S1", "bezigrad")
    assert onward == {"barcode": "S1", "title": "Kekec", "attachments": "CD", "fine": 0,
                      "patron": None, "route": "transit", "to": "siska",
                      "warnings": ["item_in_transit"], "category": "book", "call_number": "",
                      "home": "siska"}
    refused("item_in_transit", loans.checkout, s, b, "S1", "siska",
            said="the item is in transit")
    home = loans.checkin(s, "S1", "siska")
    assert (home["route"], home["hold_patron"]) == ("hold_shelf", b)
    assert home["warnings"] == ["hold_waiting"] and home["fine"] == 0


def test_renewals_follow_the_rule_count_blocks_and_membership(s):
    """A rule of 2 renewals allows exactly 2 (each answered with the new due date); a blocked
    patron may not renew; a membership renews on its last day, not the day after."""
    catalogue.set_rule(s, "*", "audiobook", loan_days=14, max_renewals=2)
    copy(s, "A1", "Zvezdni prah", category="audiobook")
    copy(s, "B1", "Alamut")
    a = patron(s)
    loan = loans.checkout(s, a, "A1", "center")["loan"]
    book = loans.checkout(s, a, "B1", "center")["loan"]
    s.clock.advance(days=7)    # Monday 9 March + 14 = Monday 23 March
    assert loans.renew(s, loan) == {"loan": loan, "ok": True, "due": "2026-03-23",
                                    "title": "Zvezdni prah", "barcode": "A1", "refusal": None}
    s.clock.advance(days=1)
    assert loans.renew(s, loan)["due"] == "2026-03-24"
    refused("renewal_limit", loans.renew, s, loan, said="renewal refused: renewal_limit")
    outcomes = {o["loan"]: o for o in loans.renew_all(s, a)}
    assert outcomes[loan] == {"loan": loan, "ok": False, "due": None, "title": "Zvezdni prah",
                              "refusal": "renewal_limit"}
    patrons.set_blocked(s, a, True)
    refused("patron_blocked", loans.renew, s, book)
    patrons.set_blocked(s, a, False)
    last = date.fromisoformat(patrons.patron(s, a)["valid_until"])
    s.clock.advance(days=(last - s.today("center")).days)
    assert loans.renew(s, book)["ok"]
    s.clock.advance(days=1)
    refused("membership_expired", loans.renew, s, book)


def test_a_check_passed_at_checkout_is_kept_on_the_loan_with_who_passed_it(s):
    """Only a named member of staff of the branch (or a device reconciling its offline loans)
    passes checks; the loan and the audit keep which checks and who."""
    copy(s, "B1", "Alamut")
    copy(s, "B2", "Kekec")
    pid = patron(s)
    passed = frozenset({"same_title_before", "loan_limit"})
    refused("staff_required", loans.checkout, s, pid, "B1", "center", overrides=passed,
            said="passing a check needs a member of staff")
    branches.add_staff(s, "ivo", "Ivo", "clerk", ["siska"])
    refused("branch_not_assigned", loans.checkout, s, pid, "B1", "center", overrides=passed,
            actor=audit.Actor("ivo", "center"))
    lent = loans.checkout(s, pid, "B1", "center", overrides=passed, actor=DESK)
    assert s.row("SELECT overrides, override_by FROM loans WHERE id = ?", [lent["loan"]]) == {
        "overrides": "loan_limit,same_title_before", "override_by": "desk"}
    (entry,) = audit.entries(s, subject=f"loan:{lent['loan']}")
    assert (entry["staff_id"], entry["branch_id"], entry["action"], entry["after"]) == (
        "desk", "center", "loan.override",
        {"overrides": ["loan_limit", "same_title_before"], "patron": pid, "item": "B1"})
    kiosk = loans.checkout(s, pid, "B2", "center", overrides=frozenset({"loan_limit"}),
                           actor=audit.Actor.of_device("kiosk-1", "center"))
    assert s.scalar("SELECT override_by FROM loans WHERE id = ?", [kiosk["loan"]]) == \
        "device:kiosk-1"
