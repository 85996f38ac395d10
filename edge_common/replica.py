"""Replicated datasets on a device: versioned rows applied only in order, pulled on a gap.

Rows are kept as the JSON central sent, under `short_key` (an allow-list hash cut to 96 bits):
a key is looked up, applied and staged in that form, whatever form it arrived in. Each dataset
has tables of its own, so that a full copy is written once, into fresh tables, and swapped in
by a rename: its keys, each with the id of its value, and its distinct values (a door list
repeats few: holders share a category, flags and end dates). A value no key uses any more
stays until the next full copy."""

import operator
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from itertools import chain, repeat
from typing import cast

from edge_common.migrations import apply, connect
from edge_common.protocol.packed import KEY_CHARS, Row, short_key

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")   # a DatasetName: safe inside a table's name
_ROWS, _VALUES, _COPY = "replica_rows_", "replica_values_", "replica_copy_"
_CHUNK = 500     # rows one INSERT of a copy writes: a statement per row costs twice the CPU
_key, _value = operator.itemgetter(0), operator.itemgetter(1)


class Verdict(Enum):
    """What to do with an incoming delta."""

    APPLY = "apply"
    STALE = "stale"
    GAP = "gap"


def classify(current: int, incoming: int) -> Verdict:
    """A delta of version `incoming` applies only on top of `incoming - 1`."""
    if incoming == current + 1:
        return Verdict.APPLY
    return Verdict.STALE if incoming <= current else Verdict.GAP


def tables(dataset: str) -> tuple[str, str]:
    """The tables holding a dataset: its keys (key, vid) and its values (id, value);
    ValueError for a name no dataset has."""
    if not _NAME.fullmatch(dataset):
        raise ValueError(f"not a dataset name: {dataset!r}")
    return _ROWS + dataset, _VALUES + dataset


def lookup_sql(dataset: str) -> str:
    """The query of a key's value (one parameter: the key as kept)."""
    rows, values = tables(dataset)
    return (f"SELECT v.value FROM {rows} AS r JOIN {values} AS v ON v.id = r.vid"
            " WHERE r.key = ?")


def _copy_tables(dataset: str) -> tuple[str, str]:
    """The tables a full copy of a dataset is written into, until it takes their place."""
    tables(dataset)
    return f"{_COPY}rows_{dataset}", f"{_COPY}values_{dataset}"


def _create(db: sqlite3.Connection, rows: str, values: str) -> None:
    db.execute(f"CREATE TABLE IF NOT EXISTS {rows} (key TEXT PRIMARY KEY, vid INTEGER NOT NULL)"
               " WITHOUT ROWID")
    db.execute(f"CREATE TABLE IF NOT EXISTS {values} (id INTEGER PRIMARY KEY,"
               " value BLOB NOT NULL UNIQUE)")


def _add_values(db: sqlite3.Connection, values: str, distinct: Iterable[bytes]) -> None:
    db.executemany(f"INSERT INTO {values} (value) VALUES (?) ON CONFLICT (value) DO NOTHING",
                   zip(distinct))


def _schema(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE replica_meta (dataset TEXT PRIMARY KEY, version INTEGER NOT NULL,"
        " synced_at REAL)"
    )
    db.execute(
        "CREATE TABLE replica_rows (dataset TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
        " PRIMARY KEY (dataset, key)) WITHOUT ROWID"
    )


def _short_keys(db: sqlite3.Connection) -> None:
    for dataset, chars in KEY_CHARS.items():
        db.execute("UPDATE OR REPLACE replica_rows SET key = substr(key, 1, ?) WHERE dataset = ?",
                   (chars, dataset))


def _table_per_dataset(db: sqlite3.Connection) -> None:
    """Each dataset's rows move to tables of their own (a full copy then swaps them)."""
    for (dataset,) in db.execute("SELECT DISTINCT dataset FROM replica_rows").fetchall():
        if _NAME.fullmatch(dataset):    # every name a device was ever sent rows under
            rows, values = tables(dataset)
            _create(db, rows, values)
            db.execute(f"INSERT INTO {values} (value) SELECT DISTINCT value FROM replica_rows"
                       " WHERE dataset = ?", (dataset,))
            db.execute(f"INSERT INTO {rows} SELECT r.key, v.id FROM replica_rows AS r JOIN"
                       f" {values} AS v ON v.value = r.value WHERE r.dataset = ? ORDER BY r.key",
                       (dataset,))
    db.execute("DROP TABLE replica_rows")


MIGRATIONS = [("replica_0001_create", _schema), ("replica_0002_short_keys", _short_keys),
              ("replica_0003_table_per_dataset", _table_per_dataset)]


@dataclass
class _Copy:
    """A full copy under way: written straight into its fresh tables while its keys rise and
    it deletes nothing (`direct`), else staged from then on and merged in by key at the end."""

    direct: bool = True
    last: str = ""           # the highest key written straight in
    staged: bool = False
    deleting: bool = False


class Replicas:
    """The device's copy of central's datasets, one SQLite file, opened by one Replicas at a
    time (opening it drops what a copy broken off by a stop or a crash left)."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self._db = connect(path, synchronous="NORMAL")
        apply(self._db, MIGRATIONS)
        self._db.execute("PRAGMA temp_store = FILE")
        self._db.execute(
            "CREATE TEMP TABLE replica_stage (seq INTEGER PRIMARY KEY, dataset TEXT NOT NULL,"
            " key TEXT NOT NULL, value BLOB)"
        )
        names = [n for (n,) in self._db.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table'").fetchall()]
        for name in names:   # a copy a stop or a crash broke off starts again from the first page
            if name.startswith(_COPY):
                self._db.execute(f"DROP TABLE {name}")
        self._tables = {n.removeprefix(_ROWS) for n in names if n.startswith(_ROWS)}
        self._read = connect(path, synchronous="NORMAL")  # lookups never wait behind a write
        self._lock = threading.Lock()
        self._copies: dict[str, _Copy] = {}  # the full copies under way
        self._clock = clock
        self._versions = dict(
            self._db.execute("SELECT dataset, version FROM replica_meta").fetchall()
        )

    def version(self, dataset: str) -> int:
        """The version this device holds (0: nothing yet)."""
        return self._versions.get(dataset, 0)

    def synced_at(self, dataset: str) -> float | None:
        """Wall-clock time the dataset was last confirmed current with central."""
        row = self._read.execute(
            "SELECT synced_at FROM replica_meta WHERE dataset = ?", (dataset,)
        ).fetchone()
        return row[0] if row else None

    def get(self, dataset: str, key: str) -> bytes | None:
        """The raw JSON value of a key, or None."""
        if dataset not in self._tables:
            return None
        row = self._read.execute(lookup_sql(dataset), (short_key(dataset, key),)).fetchone()
        return row[0] if row else None

    def rows(self, dataset: str) -> list[tuple[str, bytes]]:
        """Every (key, raw JSON value) of a dataset, by key."""
        if dataset not in self._tables:
            return []
        rows, values = tables(dataset)
        return self._read.execute(f"SELECT r.key, v.value FROM {rows} AS r JOIN {values} AS v"
                                  " ON v.id = r.vid ORDER BY r.key").fetchall()

    def count(self, dataset: str) -> int:
        """How many keys the dataset holds."""
        if dataset not in self._tables:
            return 0
        return self._read.execute(f"SELECT count(*) FROM {tables(dataset)[0]}").fetchone()[0]

    def apply(self, dataset: str, rows: Iterable[Row], version: int | None) -> None:
        """Write rows (None: delete the key); with a version, also move the dataset to it and
        mark it current."""
        keys, values = tables(dataset)
        upserts, deletes = [], []
        for key, value in rows:
            if value is None:
                deletes.append((short_key(dataset, key),))
            else:
                upserts.append((short_key(dataset, key), value))
        with self._transaction() as conn:
            _create(conn, keys, values)
            _add_values(conn, values, {v for _, v in upserts})
            conn.executemany(f"INSERT INTO {keys} VALUES (?, (SELECT id FROM {values} WHERE"
                             " value = ?)) ON CONFLICT (key) DO UPDATE SET vid = excluded.vid",
                             upserts)
            conn.executemany(f"DELETE FROM {keys} WHERE key = ?", deletes)
            if version is not None:
                self._set_version(conn, dataset, version)
        self._tables.add(dataset)
        if version is not None:
            self._versions[dataset] = version

    def stage(self, dataset: str, rows: Sequence[Row], fresh: bool = False) -> None:
        """Set rows of a full pull aside (`fresh`: forget those of an earlier, broken one).

        Pages whose keys rise from first to last and that delete nothing (a packed copy's)
        are written once, straight into the copy's own tables; from the first page that does
        not, pages are staged and merged in by key at the end (rows written out of key order
        would rewrite most of the table's pages for each page).
        """
        keys_at, values_at = _copy_tables(dataset)
        chars = KEY_CHARS.get(dataset)   # short_key, inline: a copy stages a million keys
        keys: Sequence[str] = ()
        values: Sequence[bytes | None] = ()
        if rows:
            keys, values = list(map(_key, rows)), list(map(_value, rows))
            if chars and max(map(len, keys)) > chars:
                keys = [k[:chars] for k in keys]
        with self._transaction() as conn:
            if fresh or dataset not in self._copies:
                conn.execute(f"DROP TABLE IF EXISTS {keys_at}")
                conn.execute(f"DROP TABLE IF EXISTS {values_at}")
                _create(conn, keys_at, values_at)
                conn.execute("DELETE FROM temp.replica_stage WHERE dataset = ?", (dataset,))
                self._copies[dataset] = _Copy()
            state = self._copies[dataset]
            if not keys:
                return
            if state.direct and state.last < keys[0] and None not in values and \
                    all(map(operator.lt, keys, keys[1:])):
                self._write(conn, keys_at, values_at, keys, cast(Sequence[bytes], values))
                state.last = keys[-1]
                return
            conn.executemany(
                "INSERT INTO temp.replica_stage (dataset, key, value) VALUES (?, ?, ?)",
                zip(repeat(dataset), keys, values))
        state.direct, state.staged = False, True
        state.deleting = state.deleting or None in values

    @staticmethod
    def _write(conn: sqlite3.Connection, keys_at: str, values_at: str, keys: Sequence[str],
               values: Sequence[bytes]) -> None:
        """Write new keys (rising, none held yet) with their values: each distinct value
        once, and each key with its value's id, _CHUNK rows to a statement."""
        distinct = list(set(values))
        _add_values(conn, values_at, distinct)
        ids: dict[bytes, int] = {}
        for start in range(0, len(distinct), _CHUNK):
            some = distinct[start:start + _CHUNK]
            ids.update(conn.execute(f"SELECT value, id FROM {values_at} WHERE value IN"
                                    f" ({','.join('?' * len(some))})", some).fetchall())
        flat = list(chain.from_iterable(zip(keys, map(ids.__getitem__, values), strict=True)))
        for start in range(0, len(flat), 2 * _CHUNK):
            part = flat[start:start + 2 * _CHUNK]
            conn.execute(f"INSERT INTO {keys_at} VALUES {','.join(['(?, ?)'] * (len(part) // 2))}",
                         part)

    def apply_staged(self, dataset: str, rows: Sequence[Row], version: int) -> None:
        """Replace the dataset with the staged rows plus these, at `version`: of each key, the
        row staged last, none if that was a deletion.

        The copy's tables take the place of the dataset's by a rename: lookups see the old
        rows until the commit, and the new ones after it. Rows staged out of key order are
        merged into them first, sorted by key.
        """
        self.stage(dataset, rows)
        state = self._copies.pop(dataset)
        keys, values = tables(dataset)
        keys_at, values_at = _copy_tables(dataset)
        with self._transaction() as conn:
            if state.staged:
                conn.execute(f"INSERT INTO {values_at} (value) SELECT DISTINCT value FROM"
                             " temp.replica_stage WHERE dataset = ? AND value IS NOT NULL"
                             " ON CONFLICT (value) DO NOTHING", (dataset,))
                conn.execute(
                    f"INSERT INTO {keys_at} SELECT s.key, v.id FROM temp.replica_stage AS s"
                    f" JOIN {values_at} AS v ON v.value = s.value WHERE s.dataset = ?"
                    " ORDER BY s.key, s.seq ON CONFLICT (key) DO UPDATE SET vid = excluded.vid",
                    (dataset,))
            if state.deleting:   # a key deleted after its row was staged or written
                conn.execute(
                    f"DELETE FROM {keys_at} WHERE key IN (SELECT key FROM"
                    " (SELECT key, value, row_number() OVER (PARTITION BY key ORDER BY seq DESC)"
                    " AS newest FROM temp.replica_stage WHERE dataset = ?1 AND key IN"
                    " (SELECT key FROM temp.replica_stage WHERE dataset = ?1 AND value IS NULL))"
                    " WHERE newest = 1 AND value IS NULL)", (dataset,))
            for live, copy in ((keys, keys_at), (values, values_at)):
                conn.execute(f"DROP TABLE IF EXISTS {live}")
                conn.execute(f"ALTER TABLE {copy} RENAME TO {live}")
            self._set_version(conn, dataset, version)
        self._tables.add(dataset)
        self._versions[dataset] = version
        if state.staged:
            with self._transaction() as conn:     # the copy is in force already
                conn.execute("DELETE FROM temp.replica_stage WHERE dataset = ?", (dataset,))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._db
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _set_version(self, conn: sqlite3.Connection, dataset: str, version: int) -> None:
        conn.execute(
            "INSERT INTO replica_meta VALUES (?, ?, ?) ON CONFLICT (dataset) DO UPDATE SET"
            " version = excluded.version, synced_at = excluded.synced_at",
            (dataset, version, self._clock()),
        )

    def close(self) -> None:
        """Close the database."""
        self._read.close()
        self._db.close()
