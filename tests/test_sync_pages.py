"""The pages central answers a full copy with: every live row once, in key order, keys cut as
devices keep them, the cursor a whole key."""

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from central import datasets
from central.store import open_store
from edge_common.protocol import packed
from edge_common.protocol.datasets import ALLOWLIST, CALENDAR

ROW = {"cat": "adult"}


def copy(db, dataset: str, limit: int) -> tuple[list[tuple[str, bytes]], list[str]]:
    """Every row a packed copy from version 0 gives, and the cursor of each page."""
    got, cursors, after = [], [], ""
    while True:
        page = datasets.pull(db, "main", dataset, 0, after, limit, packed.FORMAT)
        got += packed.unpack(dataset, page.packed)
        if not page.next:
            return got, cursors
        after = page.next.after
        cursors.append(after)


@settings(max_examples=25)
@given(st.sets(st.text("0123456789abcdef", min_size=64, max_size=64), max_size=30),
       st.data(), st.integers(1, 7))
def test_a_packed_copy_holds_every_live_row_once_with_keys_cut_and_whole_cursors(
        tmp_path_factory, keys, data, limit):
    """Whatever the list and the page size, a copy gives each live card once, in key order,
    under its 96-bit prefix, deletions left out; each page's cursor is the whole key of its
    last row."""
    db = open_store(str(tmp_path_factory.mktemp("c") / "c.db"))
    gone = data.draw(st.sets(st.sampled_from(sorted(keys))) if keys else st.just(set()))
    with db.transaction():
        datasets.record(db, "main", ALLOWLIST, dict.fromkeys(sorted(keys), ROW))
        datasets.record(db, "main", ALLOWLIST, dict.fromkeys(gone))
    got, cursors = copy(db, ALLOWLIST, limit)
    live = sorted(keys - gone)
    assert got == [(k[:24], msgspec.json.encode(ROW)) for k in live]
    assert cursors == [live[n * limit - 1] for n in range(1, len(cursors) + 1)]
    db.conn.close()


def test_other_datasets_keep_their_keys_whole_and_a_page_reads_in_the_caller_s_transaction(
        tmp_path):
    """A dataset whose keys are not cut travels with its keys whole; a page read inside a
    transaction (central's worker answering) reads in it."""
    db = open_store(str(tmp_path / "c.db"))
    days = [f"2026-12-{d:02d}" for d in range(20, 27)]
    with db.transaction():
        datasets.record(db, "main", CALENDAR, dict.fromkeys(days, {}))
        got, cursors = copy(db, CALENDAR, 3)
    assert [k for k, _ in got] == days and cursors == [days[2], days[5]]
    db.conn.close()


def test_a_page_and_its_cursor_are_read_in_one_snapshot(tmp_path):
    """A card deleted between the read of a page's rows and of its cursor moves neither:
    read apart, the cursor would land one row further and the next page would skip a live
    card."""
    from edge_common.migrations import connect

    path = str(tmp_path / "c.db")
    db = open_store(path)
    keys = [f"{n:064x}" for n in range(1, 8)]
    with db.transaction():
        datasets.record(db, "main", ALLOWLIST, dict.fromkeys(keys, ROW))
    other = connect(path)

    def delete_during_the_cursor_read(sql: str) -> None:
        if sql.startswith("SELECT key FROM dataset_rows"):
            other.execute("DELETE FROM dataset_rows WHERE key = ?", [keys[0]])

    db.conn.set_trace_callback(delete_during_the_cursor_read)
    page = datasets.pull(db, "main", ALLOWLIST, 0, "", 3, packed.FORMAT)
    db.conn.set_trace_callback(None)
    assert [k for k, _ in packed.unpack(ALLOWLIST, page.packed)] == [k[:24] for k in keys[:3]]
    assert page.next is not None and page.next.after == keys[2]
    other.close()
    db.conn.close()
