"""Staff name patrons as they know them, find them, and every change they make is audited."""

import json

import msgspec
import pytest
from click.testing import CliRunner

from central import datasets
from central.circulation import alerts, loans, sites
from central.circulation.errors import CirculationError
from central.circulation.store import Store
from central.store import open_store
from edge_common.cardid import card_hash
from edge_common.protocol.datasets import ALLOWLIST
from libedge_cli.main import cli
from tests.test_circ_cli import run


@pytest.fixture
def db(central_db):
    """A branch with a clerk, one at another branch, and a few patrons with cards; on each
    store."""
    db = central_db
    run(db, "init", "--admin", "boss")
    run(db, "category", "install-basics")
    run(db, "branch", "add", "center", "Central Library")
    run(db, "branch", "add", "west", "West Branch")
    run(db, "branch", "hours", "center", *(f"{d}=08:00-20:00" for d in range(7)))
    run(db, "staff", "add", "maja", "Maja", "--branch", "center")
    run(db, "staff", "add", "ivo", "Ivo", "--branch", "west")
    run(db, "patron", "add", "Novak", "--branch", "center", "--library-card", "MK001",
        "--city-card", "04:a1:b2:c3", "--first-name", "Ana", "--birth-date", "1980-05-01",
        "--email", "Ana.Novak@example.org", "--phone", "041 123 456")
    run(db, "patron", "add", "Čuk", "--branch", "center", "--first-name", "Žan")
    run(db, "patron", "add", "Horvat", "--branch", "center", "--library-card", "2")
    run(db, "item", "add", "W-1", "Alamut", "--branch", "center")
    run(db, "item", "add", "W-2", "Kekec", "--branch", "center")
    return db


def test_a_patron_is_named_by_library_card_city_card_or_id(db):
    """`checkout MK001 W-1` lends to the card's holder, as does the city card or the id."""
    (lent,) = json.loads(run(db, "checkout", "MK001", "W-1", "--branch", "center"))
    assert lent["barcode"] == "W-1"
    run(db, "checkout", "04A1B2C3", "W-2", "--branch", "center")
    shown = json.loads(run(db, "patron", "show", "id:1", "--branch", "center"))
    assert {loan["barcode"] for loan in shown["loans"]} == {"W-1", "W-2"}
    assert json.loads(run(db, "patron", "show", "city:04a1b2c3", "--branch", "center")) == shown
    assert "[patron_unknown]" in run(db, "patron", "show", "MK999", "--branch", "center",
                                     ok=False)
    assert "[patron_unknown]" in run(db, "patron", "show", "card:1", "--branch", "center",
                                     ok=False)


def test_a_text_that_names_two_patrons_is_refused_naming_both(db):
    """Patron 2's id is patron 3's library card: the desk must say which it means."""
    out = run(db, "patron", "block", "2", "--branch", "center", "--staff", "maja", ok=False)
    assert "[patron_ambiguous]" in out and "patron 2 (id:2)" in out and "patron 3 (card:2)" in out
    run(db, "patron", "block", "card:2", "--branch", "center", "--staff", "maja")
    assert json.loads(run(db, "patron", "show", "id:3", "--branch", "center"))["patron"]["blocked"]
    assert not json.loads(run(db, "patron", "show", "id:2", "--branch", "center"))["patron"][
        "blocked"]


def logged(db, action: str, *filters: str) -> list[dict]:
    """The audit entries of one action (newest first), optionally filtered."""
    return [e for e in json.loads(run(db, "audit", *filters)) if e["action"] == action]


def search(db, *terms):
    """The ids `patron search` finds."""
    return [p["id"] for p in json.loads(run(db, "patron", "search", *terms))]


def test_patrons_are_found_by_name_birth_date_email_or_phone(db):
    """Names by their start in any case (also č, ž), e-mail whole, the phone however written."""
    assert search(db, "--surname", "nov") == [1]
    assert search(db, "--surname", "čU") == [2]
    assert search(db, "--first-name", "ŽAN") == [2]
    assert search(db, "--birth-date", "1980-05-01") == [1]
    assert search(db, "--email", "ana.novak@EXAMPLE.org") == [1]
    assert search(db, "--email", "ana.novak@example") == []
    assert search(db, "--phone", "41-123-456") == [1]
    assert search(db, "--phone", "041123456") == [1]
    assert search(db, "--surname", "novak", "--first-name", "Žan") == []
    assert "[search_empty]" in run(db, "patron", "search", "--surname", " ", ok=False)


def test_an_edit_names_its_staff_and_the_audit_keeps_before_and_after(db):
    """Maja changes the e-mail; the audit says who, where, what it was and what it is."""
    out = json.loads(run(db, "patron", "edit", "MK001", "--branch", "center", "--staff", "maja",
                         "--email", "ana@example.org", "--phone", "041 123 456"))
    assert out["changed"] == {"email": "ana@example.org"}   # the phone was already that
    (entry,) = logged(db, "patron.edit", "--patron", "MK001")
    assert (entry["staff_id"], entry["branch_id"]) == ("maja", "center")
    assert entry["before"] == {"email": "Ana.Novak@example.org"}
    assert entry["after"] == {"email": "ana@example.org"}
    assert search(db, "--email", "ana@example.org") == [1]


@pytest.mark.parametrize(("args", "code"), [
    (("--staff", "ivo", "--email", "x@example.org"), "branch_not_assigned"),
    (("--staff", "nobody", "--email", "x@example.org"), "staff_unknown"),
    (("--staff", "maja", "--birth-date", "1980-13-01"), "bad_date"),
    (("--staff", "maja", "--category", "wizard"), "category_unknown"),
    (("--staff", "maja", "--surname", " "), "surname_required"),
])
def test_a_refused_edit_changes_nothing_and_logs_nothing(db, args, code):
    """Wrong staff, a bad value or an unknown category: a code, the patron and log as before."""
    before = run(db, "patron", "show", "1", "--branch", "center"), run(db, "audit")
    out = run(db, "patron", "edit", "1", "--branch", "center", *args, ok=False)
    assert f"[{code}]" in out
    assert (run(db, "patron", "show", "1", "--branch", "center"), run(db, "audit")) == before


def test_only_an_administrator_moves_an_item_and_the_audit_says_where_from(db):
    """A clerk may not move W-2 to the West branch; an administrator may, and it is logged."""
    assert "[role_required]" in run(db, "item", "show", "W-2", "--move-to", "west", "--staff",
                                    "maja", ok=False)
    assert "[bad_usage]" in run(db, "item", "show", "W-2", "--move-to", "west", ok=False)
    moved = json.loads(run(db, "item", "show", "W-2", "--move-to", "west", "--staff", "boss"))
    assert moved["home_branch"] == "west"
    (entry,) = logged(db, "item.move", "--staff", "boss")
    assert (entry["before"], entry["after"]) == ({"home_branch": "center"},
                                                 {"home_branch": "west"})


def test_blocks_settings_erasure_and_alerts_name_who_did_them(db):
    """Each is refused to staff who may not, and logged with who, where and what before."""
    args = ("--branch", "center")
    assert "[branch_not_assigned]" in run(db, "patron", "block", "1", *args, "--staff", "ivo",
                                          ok=False)
    run(db, "patron", "block", "1", *args, "--staff", "maja", "--note", "legal action")
    assert "[role_required]" in run(db, "settings", "debt_limit=900", "--staff", "maja",
                                    ok=False)
    run(db, "settings", "debt_limit=900", "--staff", "boss")
    s = Store(open_store(str(db)))
    alert = alerts.raise_alert(s, "center", "offline_checkout", "patron_blocked", dev="kiosk-1")
    s.db.close()
    assert "[alert_unknown]" in run(db, "alerts", "resolve", "999", "--staff", "maja", ok=False)
    run(db, "alerts", "resolve", str(alert), "--staff", "maja")
    assert "[already_resolved]" in run(db, "alerts", "resolve", str(alert), "--staff", "maja",
                                       ok=False)
    run(db, "patron", "edit", "id:2", *args, "--staff", "maja", "--email", "zan@example.org")
    run(db, "member", "erase", "id:2", *args, "--staff", "boss", "--yes")
    log = [e for e in json.loads(run(db, "audit")) if e["action"] in (
        "patron.erase", "patron.edit", "alert.resolve", "settings.change", "patron.block")]
    assert [(e["staff_id"], e["action"], e["subject"]) for e in log] == [
        ("boss", "patron.erase", "patron:2"), ("maja", "patron.edit", "patron:2"),
        ("maja", "alert.resolve", f"alert:{alert}"), ("boss", "settings.change", "settings"),
        ("maja", "patron.block", "patron:1")]
    erased_edit = log[1]
    assert erased_edit["before"] is None and erased_edit["after"] is None   # no e-mail kept
    assert log[3]["before"] == {"debt_limit": 1000} and log[3]["after"] == {"debt_limit": 900}
    assert log[4]["after"] == {"blocked": True, "note": "legal action"}


def door_row(db, uid: str) -> dict:
    """What the doors of the centre hold for a card."""
    s = Store(open_store(str(db)))
    key = bytes.fromhex(sites.open_site(s.db, "center"))
    rows = dict(datasets.pull(s.db, "center", ALLOWLIST, 0, "", 1000).changes)
    s.db.close()
    return msgspec.json.decode(bytes(rows[card_hash(key, uid)]))


def test_the_evening_agreement_is_recorded_at_the_desk_or_imported_and_reaches_the_doors(
        db, tmp_path):
    """`patron agreement` signs it (logged) and --withdraw takes it back; an import column
    sets it for new patrons, and anything but yes or no rejects the row."""
    assert not door_row(db, "04A1B2C3").get("agr")
    run(db, "patron", "agreement", "MK001", "--branch", "center", "--staff", "maja")
    assert door_row(db, "04A1B2C3")["agr"]
    (entry,) = logged(db, "patron.agreement", "--patron", "MK001")
    assert entry["after"] == {"agreement": True}
    run(db, "patron", "agreement", "MK001", "--branch", "center", "--staff", "maja",
        "--withdraw")
    assert not door_row(db, "04A1B2C3").get("agr")
    csv = tmp_path / "patrons.csv"
    csv.write_text("surname,category,city_card,branch,agreement\n"
                   "Kos,adult,04C0FFEE,center,yes\nBor,adult,04C0FFEF,center,maybe\n")
    report = json.loads(run(db, "import", "patrons", str(csv), ok=False))
    assert [r["code"] for r in report["rejected"]] == ["bad_agreement"]
    assert door_row(db, "04C0FFEE")["agr"]


def test_staff_renew_only_loans_lent_where_they_work(db):
    """Ivo at West may not renew a loan lent at the centre; Maja may not act for West."""
    run(db, "checkout", "MK001", "W-1", "--branch", "center")
    out = run(db, "renew", "MK001", "--staff", "ivo", "--loan", "1", ok=False)
    assert "[item_other_branch]" in out
    assert json.loads(run(db, "renew", "MK001", "--staff", "ivo")) == []
    assert "[branch_not_assigned]" in run(db, "renew", "MK001", "--staff", "maja", "--branch",
                                          "west", ok=False)
    (tried,) = json.loads(run(db, "renew", "MK001", "--staff", "maja"))
    assert tried["refusal"] == "not_extended"            # lent today: nothing to extend


def test_an_unsigned_form_warns_or_refuses_and_a_passed_check_is_kept_on_the_loan(db):
    """Completed with no form signed: the loan warns form_unsigned; set to block, it is
    refused unless a named clerk passes it, which the loan and the audit keep."""
    run(db, "member", "preregister", "Kos", "--branch", "center")
    run(db, "member", "complete", "id:4", "--branch", "center", "--staff", "maja")
    run(db, "money", "pay", "id:4", "1800", "--branch", "center", "--staff", "maja")   # the fee
    (lent,) = json.loads(run(db, "checkout", "id:4", "W-1", "--branch", "center"))
    assert lent["warnings"] == ["form_unsigned"]
    run(db, "settings", 'unsigned_form="block"', "--staff", "boss")
    assert "[form_unsigned]" in run(db, "checkout", "id:4", "W-2", "--branch", "center",
                                    ok=False)
    s = Store(open_store(str(db)))
    with pytest.raises(CirculationError) as nobody:        # the domain asks who, too
        loans.checkout(s, 4, "W-2", "center", overrides=frozenset({"form_unsigned"}))
    assert nobody.value.code == "staff_required"
    s.db.close()
    (passed,) = json.loads(run(db, "checkout", "id:4", "W-2", "--branch", "center",
                               "--override", "form_unsigned", "--staff", "maja"))
    s = Store(open_store(str(db)))
    assert s.row("SELECT overrides, override_by FROM loans WHERE id = ?", [passed["loan"]]) == {
        "overrides": "form_unsigned", "override_by": "maja"}
    s.db.close()
    (entry,) = logged(db, "loan.override", "--staff", "maja")
    assert entry["after"]["overrides"] == ["form_unsigned"]


def test_every_change_names_its_staff_who_may_make_it_and_is_logged(db):
    """A clerk may not set up a branch; what staff do is logged with its arguments, what is
    refused as a whole is not (nothing changed), and a partly refused command says so."""
    assert "[role_required]" in run(db, "branch", "add", "east", "East", "--staff", "maja",
                                    ok=False)
    assert "[missing_value]" in CliRunner().invoke(
        cli, ["admin", "checkin", "W-1", "--branch", "center", "--db", str(db)]).output
    run(db, "branch", "add", "east", "East")                     # as boss
    added = logged(db, "branch.add")[0]                              # the newest
    assert (added["staff_id"], added["subject"], added["after"]["name"], added["outcome"]) == (
        "boss", "branch:east", "East", "ok")
    run(db, "checkout", "MK001", "NOPE", "--branch", "center", "--staff", "maja", ok=False)
    assert logged(db, "checkout") == []
    run(db, "checkout", "MK001", "NOPE", "W-1", "--branch", "center", "--staff", "maja",
        ok=False)
    (lent,) = logged(db, "checkout", "--staff", "maja")
    assert (lent["subject"], lent["branch_id"], lent["outcome"]) == (
        "patron:1", "center", "partly_refused")
