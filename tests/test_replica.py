"""Replicated datasets on the device: deltas only in order, pulls write rows, versions persist."""

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_common.migrations import apply, connect
from edge_common.replica import MIGRATIONS, Replicas, Verdict, classify, tables

J = msgspec.json.encode  # rows are kept as the JSON central sent


@pytest.mark.parametrize("current, incoming, verdict", [
    (0, 1, Verdict.APPLY), (41, 42, Verdict.APPLY),
    (41, 41, Verdict.STALE), (41, 40, Verdict.STALE), (41, 39, Verdict.STALE),
    (41, 43, Verdict.GAP), (0, 2, Verdict.GAP),
])
def test_a_delta_applies_only_on_the_version_before_it(current, incoming, verdict):
    """Delta v on top of v-1 applies; one already held (or older) is stale; a later one is a
    gap that makes the device pull."""
    assert classify(current, incoming) is verdict


@given(st.integers(0, 10**9), st.integers(-3, 3))
def test_every_delta_is_applied_or_stale_or_a_gap_by_its_distance(current, ahead):
    """Over any version, the verdict depends only on how far ahead the delta is."""
    expected = {1: Verdict.APPLY}.get(ahead, Verdict.GAP if ahead > 1 else Verdict.STALE)
    assert classify(current, current + ahead) is expected


def test_apply_and_reopen(tmp_path):
    """Rows and versions written by apply() are there after a restart; a version-less apply
    writes rows but leaves the version."""
    r = Replicas(str(tmp_path / "r.db"), clock=lambda: 42.0)
    assert r.synced_at("allowlist") is None
    r.apply("allowlist", [("k1", J({"blk": False})), ("k2", J({"blk": True}))], 1)
    r.apply("allowlist", [("k1", None)], 2)
    assert r.version("allowlist") == 2
    r.apply("allowlist", [("k3", J({}))], None)
    assert r.version("allowlist") == 2
    r.close()
    r = Replicas(str(tmp_path / "r.db"))
    assert r.version("allowlist") == 2 and r.synced_at("allowlist") == 42.0
    assert r.get("allowlist", "k1") is None
    assert r.get("allowlist", "k2") == b'{"blk":true}'
    assert r.count("allowlist") == 2
    assert r.version("other") == 0


def test_a_staged_full_copy_replaces_the_dataset_at_once(tmp_path):
    """Staged pages change nothing until apply_staged swaps in their newest rows at once."""
    r = Replicas(str(tmp_path / "r.db"))
    r.apply("allowlist", [("old", J({"n": 0})), ("k3", J({"n": 0}))], 4)
    r.stage("allowlist", [("k3", J({"n": 1})), ("k4", J({"n": 1})), ("k6", J({"n": 1}))],
            fresh=True)
    r.stage("allowlist", [("k3", J({"n": 2})), ("k4", None), ("k7", None)])
    assert r.get("allowlist", "k3") == b'{"n":0}' and r.get("allowlist", "k6") is None
    r.apply_staged("allowlist", [("k5", J({"n": 3})), ("k7", J({"n": 4}))], 9)
    assert [r.get("allowlist", k) for k in ("old", "k3", "k4", "k5", "k6", "k7")] == [
        None, b'{"n":2}', None, b'{"n":3}', b'{"n":1}', b'{"n":4}']
    assert r.count("allowlist") == 4 and r.version("allowlist") == 9


def test_a_fresh_stage_forgets_a_broken_full_copy(tmp_path):
    """A fresh stage drops what an earlier, broken pull of the same dataset left staged."""
    r = Replicas(str(tmp_path / "r.db"))
    r.stage("allowlist", [("k1", J({}))], fresh=True)
    r.stage("calendar", [("2026-01-01", J({}))], fresh=True)
    r.stage("allowlist", [("k2", J({}))], fresh=True)
    r.apply_staged("allowlist", [], 1)
    r.apply_staged("calendar", [], 1)
    assert r.get("allowlist", "k1") is None and r.get("allowlist", "k2") == b"{}"
    assert r.count("calendar") == 1


def test_allow_list_keys_are_kept_cut_to_96_bits_whatever_form_they_came_in(tmp_path):
    """A card hash is kept, looked up and deleted by its first 24 hex characters: a delta's
    whole hash, a packed page's prefix and a lookup by the whole hash meet on one row; other
    datasets keep their keys whole."""
    whole = "ab" * 32
    r = Replicas(str(tmp_path / "r.db"))
    r.apply("allowlist", [(whole, J({"cat": "adult"}))], 1)
    assert [k for k, _ in r.rows("allowlist")] == [whole[:24]]
    r.stage("allowlist", [(whole[:24], J({"cat": "child"}))], fresh=True)
    r.apply_staged("allowlist", [], 2)
    assert r.get("allowlist", whole) == b'{"cat":"child"}'
    r.apply("allowlist", [(whole, None)], 3)
    assert r.count("allowlist") == 0
    r.apply("calendar", [("2026-12-25", J({}))], 1)
    assert r.get("calendar", "2026-12-25") == b"{}"


def test_a_replica_of_whole_hashes_is_cut_when_the_device_is_upgraded(tmp_path):
    """A replica written before keys were cut has them cut at the next start, so a door
    upgraded with a full list still finds every card."""
    path = str(tmp_path / "r.db")
    whole = "cd" * 32
    conn = connect(path)
    apply(conn, MIGRATIONS[:1])         # the replica as the previous release left it
    conn.executemany("INSERT INTO replica_rows VALUES (?, ?, ?)",
                     [("allowlist", whole, b"{}"), ("calendar", "2026-12-25", b"{}")])
    conn.close()
    r = Replicas(path)
    assert r.get("allowlist", whole) == b"{}"
    assert [k for k, _ in r.rows("allowlist")] == [whole[:24]]
    assert r.get("calendar", "2026-12-25") == b"{}"


@given(st.lists(st.lists(st.tuples(st.sampled_from("abcdef"),
                                   st.none() | st.integers(0, 9)), max_size=6), max_size=4))
def test_a_full_copy_keeps_of_each_key_the_row_staged_last(pages):
    """Whatever pages a full copy stages, a key holds the row staged for it last, and none
    when that was a deletion."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        r = Replicas(f"{tmp}/r.db")
        r.apply("allowlist", [("a", J({"n": -1})), ("z", J({"n": -1}))], 1)
        r.stage("allowlist", [], fresh=True)
        expected: dict[str, int | None] = {}
        for page in pages:
            r.stage("allowlist", [(k, None if n is None else J({"n": n})) for k, n in page])
            expected.update(page)
        r.apply_staged("allowlist", [], 2)
        assert dict(r.rows("allowlist")) == {
            k: J({"n": n}) for k, n in expected.items() if n is not None}
        r.close()


@given(st.lists(st.tuples(st.text("0123456789abcdef", min_size=1, max_size=24),
                          st.none() | st.integers(0, 9)), unique_by=lambda r: r[0]),
       st.integers(1, 5))
def test_a_copy_staged_in_rising_keys_keeps_each_row_without_a_sort(rows, page):
    """A copy whose keys rise from page to page (as a packed one comes) goes in as it came:
    straight into its tables until a page deletes a key, staged from then on; its
    deletions, if any, are kept out."""
    import tempfile

    rows.sort()
    with tempfile.TemporaryDirectory() as tmp:
        r = Replicas(f"{tmp}/r.db")
        r.apply("allowlist", [("0", J({"n": -1}))], 1)
        r.stage("allowlist", [], fresh=True)
        deleted = False
        for start in range(0, len(rows), page):
            r.stage("allowlist", [(k, None if n is None else J({"n": n}))
                                  for k, n in rows[start:start + page]])
            deleted = deleted or any(n is None for _, n in rows[start:start + page])
            assert (staged(r) > 0) == deleted
        r.apply_staged("allowlist", [], 2)
        assert dict(r.rows("allowlist")) == {k: J({"n": n}) for k, n in rows if n is not None}
        r.close()


def staged(r: Replicas) -> int:
    """How many rows a replica has set aside in its stage (not written straight in)."""
    return r._db.execute("SELECT count(*) FROM temp.replica_stage").fetchone()[0]


def test_a_copy_in_rising_keys_is_written_once_into_tables_that_take_the_place_of_the_old(
        tmp_path):
    """A copy whose keys rise and that deletes nothing stages nothing: its pages go straight
    into the copy's own tables, which replace the dataset's at the last page; lookups see the
    old rows until then."""
    r = Replicas(str(tmp_path / "r.db"))
    r.apply("allowlist", [("k0", J({"n": 0})), ("k9", J({"n": 0}))], 3)
    r.stage("allowlist", [("k1", J({"n": 1})), ("k2", J({"n": 1}))], fresh=True)
    r.stage("allowlist", [("k3", J({"n": 2})), ("k4", J({"n": 1}))])
    assert staged(r) == 0
    assert r.get("allowlist", "k1") is None and r.get("allowlist", "k9") == b'{"n":0}'
    assert r.count("allowlist") == 2 and r.version("allowlist") == 3
    r.apply_staged("allowlist", [("k5", J({"n": 1}))], 8)
    assert r.rows("allowlist") == [("k1", b'{"n":1}'), ("k2", b'{"n":1}'), ("k3", b'{"n":2}'),
                                   ("k4", b'{"n":1}'), ("k5", b'{"n":1}')]
    assert r.version("allowlist") == 8 and r.get("allowlist", "k9") is None
    assert values_kept(r, "allowlist") == 2      # each distinct row once
    r.close()


def values_kept(r: Replicas, dataset: str) -> int:
    """How many distinct values a replica keeps for a dataset."""
    return r._db.execute(f"SELECT count(*) FROM {tables(dataset)[1]}").fetchone()[0]


def test_a_copy_whose_keys_stop_rising_is_staged_from_then_on_and_merged_by_key(tmp_path):
    """The first page out of key order (or with a deletion) is staged, and so is every page
    after it; what went straight in before stays, unless a staged row replaces or deletes
    it."""
    r = Replicas(str(tmp_path / "r.db"))
    r.stage("allowlist", [("b", J({"n": 1})), ("d", J({"n": 1}))], fresh=True)
    assert staged(r) == 0
    r.stage("allowlist", [("a", J({"n": 2})), ("d", J({"n": 2}))])   # falls back
    r.stage("allowlist", [("e", J({"n": 3})), ("f", J({"n": 3}))])   # rising, still staged
    assert staged(r) == 4
    r.stage("allowlist", [("b", None)])
    r.apply_staged("allowlist", [], 2)
    assert dict(r.rows("allowlist")) == {"a": J({"n": 2}), "d": J({"n": 2}), "e": J({"n": 3}),
                                         "f": J({"n": 3})}
    assert staged(r) == 0
    r.close()


def test_datasets_are_kept_apart_and_a_name_no_dataset_has_is_refused(tmp_path):
    """Each dataset has tables of its own; a name that could not be a dataset's never reaches
    SQL, and a dataset nothing was kept of reads as empty."""
    r = Replicas(str(tmp_path / "r.db"))
    r.apply("calendar", [("2026-12-25", J({}))], 1)
    r.stage("allowlist", [("k", J({}))], fresh=True)
    r.apply_staged("allowlist", [], 4)
    assert r.rows("calendar") == [("2026-12-25", b"{}")] and r.rows("allowlist") == [("k", b"{}")]
    for bad in ("Allow", "x; DROP TABLE replica_meta", "", "a" * 41):
        with pytest.raises(ValueError):
            r.apply(bad, [("k", J({}))], 1)
        with pytest.raises(ValueError):
            r.stage(bad, [], fresh=True)
    assert (r.get("messages", "fi"), r.rows("messages"), r.count("messages")) == (None, [], 0)
    r.close()


def test_a_delta_on_a_copied_list_shares_and_changes_values(tmp_path):
    """Deltas after a copy write keys whose value is already kept, new values, and
    deletions; every key reads its own row."""
    r = Replicas(str(tmp_path / "r.db"))
    r.stage("allowlist", [(f"k{n}", J({"n": n % 2})) for n in range(10)], fresh=True)
    r.apply_staged("allowlist", [], 1)
    r.apply("allowlist", [("k0", J({"n": 1})), ("k1", J({"n": 7})), ("k2", None),
                          ("new", J({"n": 0}))], 2)
    assert r.get("allowlist", "k0") == r.get("allowlist", "k3") == b'{"n":1}'
    assert r.get("allowlist", "k1") == b'{"n":7}' and r.get("allowlist", "k2") is None
    assert r.get("allowlist", "new") == r.get("allowlist", "k4") == b'{"n":0}'
    assert r.count("allowlist") == 10
    r.close()


def test_a_replica_of_the_last_release_moves_to_tables_per_dataset(tmp_path):
    """A replica of the release before (every dataset in one table) is moved at the next
    start: every row, each distinct value once, versions kept."""
    path = str(tmp_path / "r.db")
    conn = connect(path)
    apply(conn, MIGRATIONS[:2])
    conn.executemany("INSERT INTO replica_rows VALUES (?, ?, ?)",
                     [("allowlist", "k1", b'{"cat":"a"}'), ("allowlist", "k2", b'{"cat":"a"}'),
                      ("allowlist", "k3", b'{"cat":"b"}'), ("calendar", "2026-12-25", b"{}")])
    conn.execute("INSERT INTO replica_meta VALUES ('allowlist', 7, 1.0), ('calendar', 2, 1.0)")
    conn.close()
    r = Replicas(path)
    assert r.rows("allowlist") == [("k1", b'{"cat":"a"}'), ("k2", b'{"cat":"a"}'),
                                   ("k3", b'{"cat":"b"}')]
    assert values_kept(r, "allowlist") == 2
    assert r.get("calendar", "2026-12-25") == b"{}"
    assert (r.version("allowlist"), r.version("calendar")) == (7, 2)
    assert not r._db.execute("SELECT 1 FROM sqlite_schema WHERE name = 'replica_rows'").fetchall()
    r.close()


KILLED_MID_COPY = """
import os, signal, sys
from edge_common.replica import Replicas
r = Replicas(sys.argv[1])
r.apply("allowlist", [("old", b'{"n":0}')], 3)
r.stage("allowlist", [("a", b'{"n":1}'), ("b", b'{"n":1}')], fresh=True)
r.stage("allowlist", [("c", b'{"n":1}')])
r.stage("allowlist", [("a", b'{"n":2}')])
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_copy_killed_half_way_leaves_the_old_list_in_use_and_starts_again(tmp_path):
    """kill -9 in the middle of a copy (pages written straight in and staged): the next start
    finds the list and version as they were, drops what the copy wrote, and a new copy goes
    through."""
    import os
    import subprocess
    import sys

    path = str(tmp_path / "r.db")
    proc = subprocess.run([sys.executable, "-c", KILLED_MID_COPY, path],
                          env={**os.environ, "PYTHONPATH": os.getcwd()}, check=False)
    assert proc.returncode == -9
    r = Replicas(path)
    assert r.rows("allowlist") == [("old", b'{"n":0}')] and r.version("allowlist") == 3
    assert not r._db.execute(
        "SELECT name FROM sqlite_schema WHERE name LIKE 'replica_copy%'").fetchall()
    r.stage("allowlist", [("b", J({"n": 5}))], fresh=True)
    r.apply_staged("allowlist", [], 4)
    assert r.rows("allowlist") == [("b", b'{"n":5}')] and r.version("allowlist") == 4
    r.close()


@given(st.lists(st.tuples(st.booleans(),
                          st.lists(st.tuples(st.sampled_from("abcdefgh"),
                                             st.none() | st.integers(0, 3)), max_size=6)),
                max_size=6),
       st.integers(0, 6))
def test_any_copy_broken_off_by_a_restart_keeps_the_old_rows_and_a_new_one_its_last(pages,
                                                                                  broken):
    """Pages in any order (`sorted` ones take the straight path while they can), a copy
    broken off after `broken` of them by closing the replica, then a whole copy of the same
    pages: the old rows stay until the new copy's last page, which leaves of each key the row
    staged last."""
    import tempfile

    pages = [(sorted(dict(p).items()) if rise else p) for rise, p in pages]
    with tempfile.TemporaryDirectory() as tmp:
        r = Replicas(f"{tmp}/r.db")
        r.apply("allowlist", [("a", J({"n": -1})), ("z", J({"n": -1}))], 1)
        r.stage("allowlist", [], fresh=True)
        for page in pages[:broken]:
            r.stage("allowlist", [(k, None if n is None else J({"n": n})) for k, n in page])
        r.close()
        r = Replicas(f"{tmp}/r.db")
        assert dict(r.rows("allowlist")) == {"a": J({"n": -1}), "z": J({"n": -1})}
        r.stage("allowlist", [], fresh=True)
        expected: dict[str, int | None] = {}
        for page in pages:
            r.stage("allowlist", [(k, None if n is None else J({"n": n})) for k, n in page])
            expected.update(page)
        r.apply_staged("allowlist", [], 2)
        assert dict(r.rows("allowlist")) == {
            k: J({"n": n}) for k, n in expected.items() if n is not None}
        assert r.count("allowlist") == len(r.rows("allowlist"))
        r.close()


def test_a_page_with_a_key_twice_goes_to_the_stage_whole(tmp_path):
    """A page whose keys do not strictly rise, by holding one twice (or two whole hashes
    with one 96-bit prefix), is not written straight in: all of it is staged, and of each
    key the row staged last is kept."""
    r = Replicas(str(tmp_path / "r.db"))
    r.stage("allowlist", [("a1", J({"n": 1}))], fresh=True)
    r.stage("allowlist", [("b1", J({"n": 1})), ("b2", J({"n": 1})), ("b2", J({"n": 2}))])
    assert staged(r) == 3
    twin = "c" * 24
    r.stage("allowlist", [(twin + "0" * 40, J({"n": 3})), (twin + "1" * 40, J({"n": 4}))])
    r.apply_staged("allowlist", [], 2)
    assert r.rows("allowlist") == [("a1", J({"n": 1})), ("b1", J({"n": 1})),
                                   ("b2", J({"n": 2})), (twin, J({"n": 4}))]
    r.close()
