"""Calendars and loan rules that staff change one piece at a time, and patrons as the desk keeps
them: forms signed for real, blocks that keep the note, names found however they are typed."""

import json
from datetime import date

import pytest

from central.circulation import (
    branches,
    catalogue,
    holds,
    imports,
    interbranch,
    lifecycle,
    loans,
    notices,
    patrons,
    summary,
)
from tests.circ import DESK, copy, library, patron, refused
from tests.test_circ_cli import run


@pytest.fixture
def s(central_db):
    """A fresh library with three branches."""
    return library(central_db)


def desk_store(tmp_path):
    """A store for the command line: the basics (holidays of 2026-2027), a branch open every
    day and a clerk, `maja`."""
    db = tmp_path / "central.db"
    run(db, "init", "--admin", "boss")
    run(db, "category", "install-basics")
    run(db, "branch", "add", "center", "Central Library")
    run(db, "branch", "hours", "center", *(f"{d}=08:00-20:00" for d in range(7)))
    run(db, "staff", "add", "maja", "Maja", "--branch", "center")
    return db


@pytest.fixture
def db(tmp_path):
    """The desk's store."""
    return desk_store(tmp_path)


def closed_in(db, year: int, *branch: str) -> dict[str, str]:
    """The closed days of `year` as `branch closed list` shows them."""
    return json.loads(run(db, "branch", "closed", "list", str(year), *branch))


def test_closed_days_are_added_and_removed_one_at_a_time_and_the_audit_keeps_before(db):
    """Adding Inventory day keeps the 12 holidays of 2027; removing it takes only that day;
    nothing given is a usage error, not an empty calendar; the audit has the days before."""
    holidays = closed_in(db, 2027)
    assert len(holidays) == 12
    run(db, "branch", "closed", "add", "2027-03-01=Inventory")
    assert closed_in(db, 2027) == holidays | {"2027-03-01": "Inventory"}
    run(db, "branch", "closed", "add", ok=False)
    run(db, "branch", "closed", "remove", ok=False)
    run(db, "branch", "closed", "remove", "2027-03-01")
    assert closed_in(db, 2027) == holidays
    assert "[day_not_closed]" in run(db, "branch", "closed", "remove", "2027-03-02", ok=False)
    # a branch's first own day starts its own calendar from the library's, holidays kept
    run(db, "branch", "closed", "add", "2027-06-07=Strike", "--branch", "center")
    assert closed_in(db, 2027, "--branch", "center") == holidays | {"2027-06-07": "Strike"}
    log = [e for e in json.loads(run(db, "audit")) if e["action"] == "calendar.change"]
    removed = log[1]
    assert removed["subject"] == "calendar:library:2027"
    assert removed["before"] == {"2027-03-01": "Inventory"} and removed["after"] == {}
    assert log[0]["subject"] == "calendar:center:2027" and log[0]["before"] == {}


def test_a_day_closed_after_lending_is_no_fine_for_a_return_on_the_next_open_day(s):
    """Due on 23 March; the centre then closes that day: back on the 24th, nothing is owed."""
    copy(s, "B1", "Alamut")
    a = patron(s)
    assert loans.checkout(s, a, "B1", "center")["due"] == "2026-03-23"
    branches.set_closed_days(s, 2026, {date(2026, 3, 23): "flood"}, branch="center")
    s.clock.advance(days=22)
    back = loans.checkin(s, "B1", "center")
    assert (back["fine"], back["late_days"]) == (0, 0)


def test_a_new_rule_cell_takes_what_it_does_not_say_from_the_rule_it_replaces(s):
    """`adult/book loan_days=14` keeps */*'s fine, cap, item limit and renewals."""
    before = catalogue.rule(s, "adult", "book")
    catalogue.set_rule(s, "adult", "book", loan_days=14)
    after = catalogue.rule(s, "adult", "book")
    assert after["loan_days"] == 14 and (after["patron_category"], after["item_category"]) == (
        "adult", "book")
    same = ("may_borrow", "max_items", "max_renewals", "fine_per_day", "fine_cap",
            "hold_allowed", "ib_loan_days", "ib_max_items")
    assert {k: after[k] for k in same} == {k: before[k] for k in same}
    assert (after["fine_per_day"], after["max_items"]) == (20, 20)


def test_a_form_is_signed_only_in_the_archive_or_on_paper_recorded_by_staff(s, tmp_path):
    """Registering at the desk, importing or completing records no signature; a paper form
    recorded by a named clerk does, and the loan check then passes."""
    copy(s, "B1", "Alamut")
    added = patrons.add_patron(s, "Kos", "adult", branch="center")
    pre = lifecycle.preregister(s, "Bizjak", "adult", "center")
    lifecycle.complete(s, pre, "center", "desk")
    csv = tmp_path / "p.csv"
    csv.write_text("surname,category\nZupan,adult\n")
    assert imports.import_patrons(s, csv.read_bytes()).imported == 1
    imported = s.scalar("SELECT id FROM patrons WHERE surname = 'Zupan'")
    for pid in (added, pre, imported):
        assert patrons.patron(s, pid)["form_signed"] == 0
    assert loans.checkout(s, added, "B1", "center")["warnings"] == ["form_unsigned"]
    loans.checkin(s, "B1", "center")
    patrons.record_paper_form(s, added, DESK)
    p = patrons.patron(s, added)
    assert (p["form_signed"], p["paper_form_by"]) == (1, "desk")
    assert loans.checkout(s, added, "B1", "center")["warnings"] == []


def test_cleanup_keeps_a_preregistration_whose_form_is_signed(s):
    """Only unfinished registrations go: signed on paper or on a pad, the patron stays."""
    on_paper, unsigned = (lifecycle.preregister(s, n, "adult", "center") for n in ("Kos", "Pan"))
    patrons.record_paper_form(s, on_paper, DESK)
    s.clock.advance(days=200)
    done = lifecycle.cleanup(s)
    assert done["deleted"] == [unsigned]
    assert done["skipped"] == [{"id": on_paper, "reason": "signed"}]


def test_a_hold_set_aside_again_with_the_same_copy_is_notified_again(s):
    """Ready, lent out of turn, returned: the same copy for the same hold is a new notice."""
    copy(s, "B1", "Alamut")
    ana, ben = patron(s, "Ana", email="ana@example.org"), patron(s, "Ben")
    loans.checkout(s, ben, "B1", "center")
    holds.place(s, ana, "B1", "center")
    loans.checkin(s, "B1", "center")
    loans.checkout(s, ben, "B1", "center", overrides=frozenset({"reserved_for_other"}),
                   actor=DESK)
    first = notices.pending(s, "email")
    assert [n["kind"] for n in first] == ["hold_ready"]
    assert notices.withdrawn(s, first[0]) == "hold_not_ready"
    loans.checkin(s, "B1", "center")                  # the same copy, the same hold, ready again
    again = notices.pending(s, "email")
    assert [(n["kind"], n["body"]["barcode"]) for n in again] == [("hold_ready", "B1")]
    assert notices.withdrawn(s, again[0]) is None


def test_lifting_a_block_keeps_the_patrons_note(db):
    """`card block` then `unblock`, and `patron block --lift`, leave the patron's own note."""
    run(db, "patron", "add", "Novak", "--branch", "center", "--city-card", "04A1B2C3")
    run(db, "patron", "edit", "id:1", "--branch", "center", "--staff", "maja",
        "--note", "prefers large print")
    run(db, "card", "block", "04A1B2C3", "--note", "lost card")
    run(db, "card", "unblock", "04A1B2C3")
    run(db, "patron", "block", "id:1", "--branch", "center", "--staff", "maja", "--note", "court")
    run(db, "patron", "block", "id:1", "--branch", "center", "--staff", "maja", "--lift")
    from central.circulation.store import Store
    from central.store import open_store
    p = patrons.patron(Store(open_store(str(db))), 1)
    assert (p["note"], p["blocked"], p["block_note"]) == ("prefers large print", 0, None)


def test_an_inter_branch_loan_is_due_home_when_the_patron_must_return_it(s):
    """Lent or renewed at the requesting branch (by the home rules), the patron's due date
    and the date the owning branch expects its copy back move together, never apart."""
    copy(s, "S1", "Kekec", "siska")
    a = patron(s)
    ib = interbranch.request(s, a, "S1", "center")["ib_loan"]
    interbranch.lend(s, ib)
    loans.checkin(s, "S1", "center")
    s.clock.advance(days=5)                       # picked up five days later
    lent = loans.checkout(s, a, "S1", "center")
    assert interbranch.get(s, ib)["due"] == lent["due"]
    s.clock.advance(days=10)
    renewed = loans.renew(s, lent["loan"], at=["center"])
    assert renewed["due"] > lent["due"] and interbranch.get(s, ib)["due"] == renewed["due"]
    s.clock.advance(days=30)
    assert [b["id"] for b in interbranch.overdue(s, "siska")] == [ib]


def test_search_finds_names_without_diacritics_in_any_case(s):
    """`zupancic` finds Zupančič; `ZUPANČ` and `čuk` too; an edit keeps the search up to date."""
    z = patron(s, "Zupančič", first_name="Žan")
    c = patron(s, "Čuk")
    assert [p["id"] for p in patrons.search(s, surname="zupancic")] == [z]
    assert [p["id"] for p in patrons.search(s, surname="ZUPANČ")] == [z]
    assert [p["id"] for p in patrons.search(s, surname="cuk")] == [c]
    assert [p["id"] for p in patrons.search(s, first_name="zan")] == [z]
    patrons.update(s, c, surname="Đurić")
    assert [p["id"] for p in patrons.search(s, surname="duric")] == [c]


def test_a_loan_lent_today_is_not_shown_renewable(s):
    """The account says what renewal would: lent today, `not_extended`; the next day, yes."""
    copy(s, "B1", "Alamut")
    a = patron(s)
    loan = loans.checkout(s, a, "B1", "center")["loan"]
    (row,) = summary.summary(s, a, "center")["loans"]
    refused("not_extended", loans.renew, s, loan)
    assert (row["renewable"], row["refusal"]) == (False, "not_extended")
    s.clock.advance(days=1)
    (row,) = summary.summary(s, a, "center")["loans"]
    assert row["renewable"] and loans.renew(s, loan)["ok"]
