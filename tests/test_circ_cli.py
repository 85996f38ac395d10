"""The staff CLI over the same Python API: a day at the desk from set-up to the cash report."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from click.testing import CliRunner

from central.admin_cli import admin
from libedge_cli.main import cli


def staff_actions(group: click.Group, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The commands under `group` that a member of staff must be named for."""
    found = set()
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            found |= staff_actions(cmd, (*path, name))
        elif cmd.callback is not None and "staff_action" in cmd.callback.__dict__:
            found.add((*path, name))
    return found


STAFF_ACTIONS = staff_actions(admin)


def run(db, *args, ok=True, input=None, staff="boss"):
    """`libedge admin ARGS --db DB`, by default as the administrator `boss` where a command
    needs a member of staff and the test names none; its output."""
    named = "--staff" in args or not ({args[:1], args[:2], args[:3]} & STAFF_ACTIONS)
    extra = [] if named else ["--staff", staff]
    result = CliRunner().invoke(cli, ["admin", *args, *extra, "--db", str(db)], input=input)
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def test_a_day_at_the_desk(tmp_path):
    db = tmp_path / "central.db"
    run(db, "init", "--admin", "boss")
    run(db, "category", "install-basics")
    run(db, "branch", "add", "center", "Central Library")
    run(db, "branch", "hours", "center", *(f"{d}=08:00-20:00" for d in range(7)))
    run(db, "staff", "add", "maja", "Maja", "--role", "cashier", "--branch", "center")
    assert "patron 1 registered" in run(db, "patron", "add", "Novak", "--branch", "center",
                                        "--city-card", "04:a1:b2:c3")
    run(db, "item", "add", "B1", "Alamut", "--branch", "center", "--author", "Bartol",
        "--accession", "INV-1")
    (lent,) = json.loads(run(db, "checkout", "1", "INV-1", "--branch", "center"))
    assert lent["barcode"] == "B1"
    (back,) = json.loads(run(db, "checkin", "B1", "--branch", "center"))
    assert back["route"] == "reshelve"
    run(db, "money", "charge", "1", "replacement", "2500", "--branch", "center")
    paid = json.loads(run(db, "money", "pay", "1", "3000", "--branch", "center",
                          "--staff", "maja"))
    assert paid["to_credit"] == 500
    today = datetime.now(ZoneInfo("Europe/Ljubljana")).date().isoformat()   # the branch's day
    report = json.loads(run(db, "money", "report", "--branch", "center", "--from", today))
    assert report["days"][0]["total"] == 3000
    shown = json.loads(run(db, "patron", "show", "1", "--branch", "center"))
    assert shown["credit"] == 500 and shown["patron"]["name"] == "Novak"
    run(db, "patron", "pin", "1", input="4321\n4321\n")


def test_refusals_are_codes_not_tracebacks(tmp_path):
    db = tmp_path / "central.db"
    run(db, "init", "--admin", "boss")
    run(db, "category", "install-basics")
    out = run(db, "branch", "add", "x", "X", "--tz", "Mars/Olympus", ok=False)
    assert "[tz_unknown]" in out
    out = run(db, "checkout", "7", "B1", "--branch", "nowhere", ok=False)
    assert "[patron_unknown]" in out
    run(db, "branch", "add", "center", "Central Library")
    out = run(db, "settings", "debt_limit=-5", "--staff", "boss", ok=False)
    assert "[bad_setting]" in out
    assert "[bad_usage]" in run(db, "settings", "debt_limit=500", ok=False)
    assert json.loads(run(db, "settings", "debt_limit=500", "--staff", "boss"))[
        "debt_limit"] == 500


def test_back_office_commands(tmp_path):
    db = tmp_path / "central.db"
    run(db, "init", "--admin", "boss")
    run(db, "category", "install-basics")
    run(db, "branch", "add", "center", "Central Library")
    run(db, "branch", "hours", "center", *(f"{d}=08:00-20:00" for d in range(7)))
    run(db, "staff", "add", "maja", "Maja", "--branch", "center")
    assert "patron 1" in run(db, "member", "preregister", "Novak", "--branch", "center")
    assert json.loads(run(db, "member", "complete", "1", "--branch", "center",
                          "--staff", "maja"))["status"] == "active"
    items = tmp_path / "items.csv"
    items.write_text("barcode,title,category,branch\nB1,Alamut,book,center\n"
                     "B2,Kekec,book,nowhere\n")
    out = run(db, "import", "items", str(items), ok=False)
    assert '"imported": 1' in out and "branch_unknown" in out
    run(db, "money", "pay", "1", "1800", "--branch", "center", "--staff", "maja")
    run(db, "checkout", "1", "B1", "--branch", "center")
    today = datetime.now(ZoneInfo("Europe/Ljubljana")).date().isoformat()   # the branch's day
    counted = json.loads(run(db, "stats", "--from", today))
    assert counted["total"]["loans"] == 1 and counted["total"]["new_members"] == 1
    assert json.loads(run(db, "reminders"))["overdue"]["notices"] == 0
    assert json.loads(run(db, "member", "cleanup"))["deleted"] == []
    erase = ("member", "erase", "1", "--branch", "center", "--yes")
    assert "[role_required]" in run(db, *erase, "--staff", "maja", ok=False)
    run(db, "staff", "add", "sara", "Sara", "--role", "supervisor", "--branch", "center")
    run(db, *erase, "--staff", "sara", ok=False)          # a loan is still out
    run(db, "checkin", "B1", "--branch", "center")
    run(db, *erase, "--staff", "sara")
    assert json.loads(run(db, "patron", "show", "1", "--branch", "center"))["patron"]["name"] == ""


def test_door_card_commands_go_through_the_domain(tmp_path):
    import msgspec

    from central import datasets, fleet
    from central.store import open_store
    from edge_common.cardid import card_hash

    db = tmp_path / "central.db"
    run(db, "init", "--admin", "boss")
    run(db, "category", "install-basics")
    run(db, "branch", "add", "center", "Central Library")
    run(db, "patron", "add", "Novak", "--branch", "center", "--city-card", "04A1B2C3")
    store = open_store(str(db))
    assert fleet.site_key(store, "center") is None          # asking creates nothing
    enrolled = run(db, "device", "enrol", "lock-1", "--site", "center", "--kind", "lockd")
    key = enrolled.split("card_key = ", 1)[1].split(";")[0]
    assert fleet.command_key(store, "lock-1").hex() in enrolled
    assert fleet.site_key(store, "center") == key
    head = datasets.head(store, "center", "allowlist")
    assert head > 0                                          # the new site got the list
    run(db, "device", "enrol", "lock-2", "--site", "center", "--kind", "lockd")
    assert datasets.head(store, "center", "allowlist") == head   # ...once

    # `card add` made patrons with no name, no expiry and no fee: cards are given to patrons
    assert "No such command" in run(db, "card", "add", "04CC0002", ok=False)
    assert "[card_unknown]" in run(db, "card", "block", "04CC0002", ok=False)
    assert "patron 1 blocked" in run(db, "card", "block", "04:a1:b2:c3", "--note", "court")
    row = store.execute("SELECT blocked, block_note FROM patrons WHERE id = 1").fetchone()
    assert row == (1, "court")
    page = datasets.pull(store, "center", "allowlist", 0, "", 100)
    entry = dict(page.changes)[card_hash(bytes.fromhex(key), "04A1B2C3")]
    assert msgspec.json.decode(msgspec.json.encode(entry))["blk"] is True
    assert "patron 1 unblocked" in run(db, "card", "unblock", "04A1B2C3")


def test_copies_to_send_are_listed_for_the_sending_branch(tmp_path):
    db = tmp_path / "central.db"
    run(db, "init", "--admin", "boss")
    run(db, "category", "install-basics")
    for bid, name in (("center", "Central Library"), ("siska", "Šiška")):
        run(db, "branch", "add", bid, name)
        run(db, "branch", "hours", bid, *(f"{d}=08:00-20:00" for d in range(7)))
    run(db, "patron", "add", "Novak", "--branch", "siska")
    run(db, "item", "add", "B1", "Alamut", "--branch", "center")
    assert json.loads(run(db, "ib", "request", "1", "B1", "--branch", "siska"))["ib_loan"]
    to_send = json.loads(run(db, "ib", "list", "--to-send", "--branch", "center"))
    assert [b["barcode"] for b in to_send] == ["B1"]
    # which branch sends is not optional: without it the list came out empty
    assert "--to-send needs --branch" in run(db, "ib", "list", "--to-send", ok=False)


def test_a_branch_message_of_the_day_is_set_per_language_listed_cleared_and_checked(tmp_path):
    db = tmp_path / "central.db"
    run(db, "init", "--admin", "boss")
    run(db, "branch", "add", "center", "Central Library")
    run(db, "staff", "add", "head", "Head", "--role", "supervisor", "--branch", "center")
    run(db, "staff", "add", "desk", "Desk", "--role", "clerk", "--branch", "center")
    run(db, "branch", "message", "center", "  Open until 20:00.\n Reading room upstairs. ",
        staff="head")
    run(db, "branch", "message", "center", "Odprto do 20.00.", "--lang", "sl")
    assert run(db, "branch", "messages", "center").splitlines() == [
        "*\tOpen until 20:00. Reading room upstairs.", "sl\tOdprto do 20.00."]
    assert "[role_required]" in run(db, "branch", "message", "center", "x", staff="desk",
                                    ok=False)
    assert "[too_long]" in run(db, "branch", "message", "center", "x" * 301, ok=False)
    assert "[bad_value]" in run(db, "branch", "message", "center", " \n ", ok=False)
    assert "[bad_language]" in run(db, "branch", "message", "center", "x", "--lang", "de",
                                   ok=False)
    assert "[branch_unknown]" in run(db, "branch", "message", "nowhere", "x", ok=False)
    assert "[bad_usage]" in run(db, "branch", "message", "center", ok=False)
    run(db, "branch", "message", "center", "--clear")
    assert run(db, "branch", "messages", "center").splitlines() == ["sl\tOdprto do 20.00."]
    assert "branch.message" in run(db, "audit")
