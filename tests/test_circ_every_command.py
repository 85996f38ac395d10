"""Generated from the command table, as the bad-input sweep is: every `libedge admin` command
that changes the store writes an audit row naming who, where, on what, and the values before
and after; and every command acting on a branch-bound record (a hold, an inter-branch loan, a
payment, a form, or anything at a named branch) refuses staff not assigned to that branch."""

import json
import shutil
import sqlite3
from contextlib import closing

import click
import pytest

from tests import test_circ_bad_input as sweep
from tests.test_circ_bad_input import COMMANDS, call, invoke
from tests.test_circ_cli import run

template = sweep.template       # the sweep's store, made once for this module too

ADMIN_ONLY = {name for name, cmd in COMMANDS.items()
              if (cmd.callback.__dict__.get("staff_action") or ("", ()))[1] == ("admin",)} \
    | {"settings", "item show"}        # checked by the domain: an administrator's
SELF = {name for name, cmd in COMMANDS.items() if "self_action" in cmd.callback.__dict__}
LIBRARY_WIDE = ADMIN_ONLY | {"terms add"} | SELF - {"member preregister", "staff login"}
READ_ONLY = {"audit"}       # --staff is a filter there
OWNED_ELSEWHERE = {"ib lend": "ivo"}   # the copy asked for is West's: West lends it
CHANGES_A_RECORD = {   # what they change existed before: the row keeps what it was
    "renew", "money edit", "member complete", "member archive", "member renew", "card block",
    "patron card", "patron edit", "patron block", "patron agreement",
    "hold cancel", "ib lend", "item show", "settings", "form fix", "form refresh"}
ERASED = {"member erase"}   # erasure forgets the values logged about the patron, by design


@pytest.fixture(scope="module")
def store(template, tmp_path_factory):
    """The bad-input sweep's store, with a supervisor at each branch (`sara` at the centre,
    `ivo` at West), a renewable loan (W-3, lent to patron 1 and due a month ago) and a hold
    past its expiry (for `hold purge`)."""
    db = tmp_path_factory.mktemp("every") / "central.db"
    shutil.copy(template, db)
    shutil.copytree(template.with_name("central-forms"), db.with_name("central-forms"))
    run(db, "staff", "add", "sara", "Sara", "--role", "supervisor", "--branch", "center")
    run(db, "staff", "add", "ivo", "Ivo", "--role", "supervisor", "--branch", "west")
    run(db, "item", "add", "W-3", "Cvetje v jeseni", "--branch", "center")
    run(db, "checkout", "1", "W-3", "--branch", "center")
    with closing(sqlite3.connect(db)) as conn, conn:   # closed: nothing left in the WAL
        conn.execute("UPDATE loans SET due = date('now', '-30 days') WHERE id = 2")
        conn.execute("UPDATE holds SET expires = date('now', '-1 day') WHERE id = 1")
    return db


def as_staff(name: str, staff: str, branch: str | None = None) -> list[str]:
    """The good call of `name` made by `staff` (and at `branch`, when the command takes one)."""
    cmd = COMMANDS[name]
    argv = call(name, cmd)
    if "--staff" in argv:
        argv[argv.index("--staff") + 1] = staff
    elif any(p.name == "staff_id" for p in cmd.params):
        argv += ["--staff", staff]
    if branch and "--branch" not in argv and any(
            p.name in ("branch_id", "branch_ids") and isinstance(p, click.Option)
            for p in cmd.params):
        argv += ["--branch", branch]
    return argv


def outside_audit(dump: list[str]) -> list[str]:
    """The store less its audit log."""
    return [line for line in dump if not line.startswith('INSERT INTO "audit"')]


def new_rows(db, before: list[str]) -> list[dict]:
    """The audit rows the command added."""
    logged = sum(line.startswith('INSERT INTO "audit"') for line in before)
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM audit ORDER BY id LIMIT -1"
                                              " OFFSET ?", [logged])]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_change_is_in_the_audit_log_with_who_where_what_and_before_after(
        store, tmp_path, name):
    """Run each command's good call (as an administrator where only one may, else as the
    centre's supervisor): if it changed the store, the audit log got a row naming who, the
    branch (unless the change is library-wide), the subject, and its values."""
    staff = "boss" if name in ADMIN_ONLY else OWNED_ELSEWHERE.get(name, "sara")
    result, before, after = invoke(store, tmp_path, as_staff(name, staff))
    assert result.exit_code == 0 or name == "category install-basics", result.output
    if outside_audit(before) == outside_audit(after):
        return
    rows = new_rows(tmp_path / "central.db", before)
    assert rows, f"{name} changed the store and logged nothing"
    for row in rows:
        assert row["staff_id"] and row["action"] and row["subject"], row
        if name not in SELF:
            assert row["staff_id"] in (staff, "boss"), row
        if name not in LIBRARY_WIDE:
            assert row["branch_id"] == ("west" if staff == "ivo" else "center"), row
    if name in ERASED:
        return
    assert any(r["after"] not in (None, "{}") for r in rows), rows
    if name in CHANGES_A_RECORD:
        assert any(r["before"] not in (None, "{}") for r in rows), rows


BRANCH_BOUND = sorted(name for name, cmd in COMMANDS.items()
                      if any(p.name == "staff_id" for p in cmd.params)
                      and name not in LIBRARY_WIDE | SELF | READ_ONLY)


@pytest.mark.parametrize("name", BRANCH_BOUND)
def test_staff_not_assigned_to_the_owning_branch_are_refused(store, tmp_path, name):
    """Each command a member of staff runs is refused, with `branch_not_assigned` and nothing
    changed, to the supervisor of the branch that does not own what it acts on: the hold, the
    inter-branch loan (the lending branch's), the payment, the form, or the --branch named."""
    refusals = []
    for staff in ("ivo", "sara"):
        (tmp_path / staff).mkdir()
        result, before, after = invoke(store, tmp_path / staff, as_staff(name, staff, "center"))
        if "[branch_not_assigned]" in result.output:
            assert result.exit_code != 0 and after == before, result.output
            refusals.append(staff)
    assert refusals, f"{name} let staff act for a branch they are not assigned to"


def test_the_branch_rule_covers_what_the_audit_found(store):
    """The commands the audit named as acting for another branch are all checked."""
    assert {"hold cancel", "ib lend", "member archive", "patron card", "patron pin",
            "card block", "card unblock"} <= set(BRANCH_BOUND)


def test_a_card_block_shows_under_the_patron_and_names_the_branch(store, tmp_path):
    """Ivo at West blocks Novak's city card: the block applies everywhere, and `audit
    --patron` shows it with West as the branch and the values before and after; Sara may not
    block it in West's name."""
    (tmp_path / "sara").mkdir()
    refused, _, _ = invoke(store, tmp_path / "sara", ["card", "block", "04A1B2C3", "--staff",
                                                      "sara", "--branch", "west"])
    assert "[branch_not_assigned]" in refused.output
    blocked, _, _ = invoke(store, tmp_path, ["card", "block", "04A1B2C3", "--staff", "ivo",
                                             "--note", "court"])
    assert blocked.exit_code == 0, blocked.output
    shown = invoke_again(tmp_path, ["audit", "--patron", "MK001"])
    (entry,) = [e for e in shown if e["action"] == "card.block"]
    assert (entry["staff_id"], entry["branch_id"], entry["subject"]) == ("ivo", "west",
                                                                         "patron:1")
    assert (entry["before"]["blocked"], entry["after"]["blocked"]) == (0, 1)


def invoke_again(tmp_path, argv: list[str]) -> list[dict]:
    """Run a command on the store a test already changed (in `tmp_path`); its JSON output."""
    return json.loads(run(tmp_path / "central.db", *argv))


def test_the_days_report_and_the_audit_show_every_payment_edit_and_deletion(store, tmp_path):
    """Maja takes 300 and corrects it to 100, then deletes the morning's 200: `audit --patron`
    has each change of money with the payment before and after, and the day's report lists
    both corrections beside the totals; the credit payment Sara makes cannot be edited."""
    db = tmp_path / "central.db"
    shutil.copy(store, db)
    paid = json.loads(run(db, "money", "pay", "1", "300", "--branch", "center", "--staff",
                          "maja"))["id"]
    run(db, "money", "edit", str(paid), "--amount", "100", "--staff", "maja")
    run(db, "money", "edit", "1", "--delete", "--staff", "maja")
    money = [e for e in json.loads(run(db, "audit", "--patron", "1"))
             if e["action"].startswith("payment.")]
    assert [(e["action"], e["staff_id"], e["branch_id"]) for e in money] == [
        ("payment.delete", "maja", "center"), ("payment.edit", "maja", "center"),
        ("payment.add", "maja", "center"), ("payment.add", "maja", "center")]
    assert (money[1]["before"]["amount"], money[1]["after"]["amount"]) == (300, 100)
    assert (money[0]["before"]["deleted"], money[0]["after"]["deleted"]) == (False, True)
    today = money[0]["after"]["on"]
    report = json.loads(run(db, "money", "report", "--branch", "center", "--from", today))
    assert [(c["action"], c["payment"], c["staff"], c["before"]["amount"], c["after"]["amount"])
            for c in report["corrections"]] == [("payment.edit", paid, "maja", 300, 100),
                                                ("payment.delete", 1, "maja", 200, 200)]
    assert report["days"] == [{"day": today, "method": "cash", "payments": 2, "total": 400}]
    used = json.loads(run(db, "money", "use-credit", "4", "--branch", "center", "--staff",
                          "sara"))["id"]
    assert "[credit_payment]" in run(db, "money", "edit", str(used), "--amount", "5000",
                                     "--staff", "sara", ok=False)


def test_a_patron_command_acts_at_the_branch_named_or_chosen_at_login(store, tmp_path):
    """Ana works at both branches: without --branch `patron card` asks her to name one
    (`branch_required`); after `staff login ana west` it acts at West, and the audit says so."""
    db = tmp_path / "central.db"
    shutil.copy(store, db)
    run(db, "staff", "add", "ana", "Ana", "--branch", "center", "--branch", "west")
    assert "[branch_required]" in run(db, "patron", "card", "2", "04D4E5F6", "--staff", "ana",
                                      ok=False)
    run(db, "staff", "login", "ana", "west")
    run(db, "patron", "card", "2", "04D4E5F6", "--staff", "ana")
    (entry,) = [e for e in json.loads(run(db, "audit", "--patron", "2"))
                if e["action"] == "patron.card"]
    assert (entry["staff_id"], entry["branch_id"], entry["after"]["cards"]) == (
        "ana", "west", "city:04D4E5F6")
