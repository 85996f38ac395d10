"""The box's ledger on a real SQLite file: states survive a reopen, what is in a bin counts
until staff empty it, and only finished items are ever forgotten."""

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

from returnbox.ledger import Ledger


def test_every_state_is_on_disk_when_move_returns_and_survives_a_reopen(tmp_path):
    """A second connection sees each committed state; a reopened ledger lists the unfinished
    items with their request ids and facts; the migration is recorded by name."""
    path = str(tmp_path / "returnbox.db")
    ledger = Ledger(path)
    went_in = datetime(2026, 3, 2, 21, 15, tzinfo=UTC)
    a = ledger.new(1, "identified", "B1", at=went_in)
    with closing(sqlite3.connect(path)) as other:
        assert other.execute("SELECT state FROM items").fetchall() == [("identified",)]
    a = ledger.move(a, "queued", route="reshelve", bin="shelf", offline=True,
                    warnings=("attachments",))
    b = ledger.move(ledger.new(1, "identified", "B2"), "diverted", bin="shelf")
    ledger.move(ledger.new(1, "identified", "B3"), "rejected", refusal="item_unknown")
    ledger.close()
    again = Ledger(path)
    assert again.unfinished() == [a, b]
    assert again.unfinished()[0].at == went_in and again.unfinished()[0].offline
    with closing(sqlite3.connect(path)) as other:
        assert ("returnbox_0001_items",) in other.execute("SELECT name FROM _migrations")
    again.close()


def test_a_bin_counts_its_items_until_emptied_and_only_finished_items_are_pruned(tmp_path):
    """Counts and the items in a bin, newest first; `in_box` finds a barcode until its bin is
    emptied; pruning old rows never touches an unfinished (a queued return above all), jammed
    or unemptied item."""
    ledger = Ledger(str(tmp_path / "returnbox.db"))
    old = datetime.now(UTC) - timedelta(days=200)
    for barcode in ("B1", "B2"):
        ledger.move(ledger.new(1, "identified", barcode, at=old), "arrived", bin="shelf")
    ledger.move(ledger.new(1, "identified", "B3", at=old), "rejected", refusal="not_on_loan")
    waiting = ledger.new(2, "identified", "B4", at=old)
    queued = ledger.move(ledger.new(2, "identified", "B5", at=old), "queued", bin="later",
                         offline=True)
    jammed = ledger.move(ledger.new(2, "identified", "B6", at=old), "jammed", bin="shelf")
    assert ledger.counts() == {"shelf": 2}
    assert [i.barcode for i in ledger.bin_items("shelf")] == ["B2", "B1"]
    assert ledger.in_box("B1") is not None and ledger.in_box("B3") is None
    assert ledger.prune(datetime.now(UTC) - timedelta(days=90)) == 1   # the rejected one
    assert ledger.emptied("shelf") == 2 and ledger.counts() == {}
    assert ledger.in_box("B1") is None
    assert ledger.prune(datetime.now(UTC) - timedelta(days=90)) == 2
    assert ledger.unfinished() == [waiting, queued] and ledger.last_visit() == 2
    assert ledger.jammed() == [jammed]
    ledger.close()
