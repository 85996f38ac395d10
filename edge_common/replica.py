"""Replicated datasets on a device: versioned rows applied only in order, pulled on a gap.

Rows are kept as the JSON central sent, under `short_key` (an allow-list hash cut to 96 bits):
a key is looked up, applied and staged in that form, whatever form it arrived in."""

import operator
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from itertools import repeat

from edge_common.migrations import apply, connect
from edge_common.protocol.packed import KEY_CHARS, Row, short_key


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


MIGRATIONS = [("replica_0001_create", _schema), ("replica_0002_short_keys", _short_keys)]


@dataclass
class _Stage:
    """What a full copy has staged: whether its keys rose all along, and whether it holds a
    deletion."""

    rising: bool = True
    deleting: bool = False
    last: str = ""

    def add(self, keys: list[str], values: list[bytes | None]) -> None:
        """Note a page of staged keys and their values (every row of a large copy passes
        here: the checks run in C, over whole lists)."""
        if keys:
            self.rising = self.rising and all(map(operator.lt, [self.last, *keys], keys))
            self.deleting = self.deleting or None in values
            self.last = keys[-1]


class Replicas:
    """The device's copy of central's datasets, one SQLite file."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self._db = connect(path, synchronous="NORMAL")
        apply(self._db, MIGRATIONS)
        self._db.execute("PRAGMA temp_store = FILE")
        self._db.execute(
            "CREATE TEMP TABLE replica_stage (seq INTEGER PRIMARY KEY, dataset TEXT NOT NULL,"
            " key TEXT NOT NULL, value BLOB)"
        )
        self._read = connect(path, synchronous="NORMAL")  # lookups never wait behind a write
        self._lock = threading.Lock()
        self._stages: dict[str, _Stage] = {}  # what each full copy under way staged
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
        row = self._read.execute(
            "SELECT value FROM replica_rows WHERE dataset = ? AND key = ?",
            (dataset, short_key(dataset, key)),
        ).fetchone()
        return row[0] if row else None

    def rows(self, dataset: str) -> list[tuple[str, bytes]]:
        """Every (key, raw JSON value) of a dataset, by key."""
        return self._read.execute(
            "SELECT key, value FROM replica_rows WHERE dataset = ? ORDER BY key", (dataset,)
        ).fetchall()

    def count(self, dataset: str) -> int:
        """How many keys the dataset holds."""
        return self._read.execute(
            "SELECT count(*) FROM replica_rows WHERE dataset = ?", (dataset,)
        ).fetchone()[0]

    def apply(self, dataset: str, rows: Iterable[Row], version: int | None) -> None:
        """Write rows (None: delete the key); with a version, also move the dataset to it and
        mark it current."""
        upserts, deletes = [], []
        for key, value in rows:
            if value is None:
                deletes.append((dataset, short_key(dataset, key)))
            else:
                upserts.append((dataset, short_key(dataset, key), value))
        with self._transaction() as conn:
            conn.executemany(
                "INSERT INTO replica_rows VALUES (?, ?, ?) ON CONFLICT (dataset, key)"
                " DO UPDATE SET value = excluded.value", upserts,
            )
            conn.executemany("DELETE FROM replica_rows WHERE dataset = ? AND key = ?", deletes)
            if version is not None:
                self._set_version(conn, dataset, version)
        if version is not None:
            self._versions[dataset] = version

    def stage(self, dataset: str, rows: Sequence[Row], fresh: bool = False) -> None:
        """Set rows of a full pull aside (`fresh`: forget those of an earlier, broken one)."""
        chars = KEY_CHARS.get(dataset)   # short_key, inline: a copy stages a million keys
        keys, values = [k[:chars] for k, _ in rows], [v for _, v in rows]
        with self._transaction() as conn:
            if fresh:
                conn.execute("DELETE FROM temp.replica_stage WHERE dataset = ?", (dataset,))
                self._stages.pop(dataset, None)
            conn.executemany(
                "INSERT INTO temp.replica_stage (dataset, key, value) VALUES (?, ?, ?)",
                zip(repeat(dataset), keys, values))
        self._stages.setdefault(dataset, _Stage()).add(keys, values)

    def apply_staged(self, dataset: str, rows: Sequence[Row], version: int) -> None:
        """Replace the dataset with the staged rows plus these, at `version`: of each key, the
        row staged last, none if that was a deletion.

        The rows go in in key order: inserted in arrival order, every page of a large pull
        would rewrite most of the table's pages. A copy staged in rising keys (a packed one)
        is in that order already; any other is sorted here. Lookups see the old rows until
        the commit.
        """
        self.stage(dataset, rows)
        stage = self._stages.pop(dataset, _Stage())
        with self._transaction() as conn:
            conn.execute("DELETE FROM replica_rows WHERE dataset = ?", (dataset,))
            conn.execute(
                "INSERT INTO replica_rows SELECT dataset, key, value FROM temp.replica_stage"
                " WHERE dataset = ? AND value IS NOT NULL"
                f" ORDER BY {'seq' if stage.rising else 'key, seq'}"
                " ON CONFLICT (dataset, key) DO UPDATE SET value = excluded.value", (dataset,))
            if stage.deleting:   # a key deleted after its row was staged
                conn.execute(
                    "DELETE FROM replica_rows WHERE dataset = ?1 AND key IN (SELECT key FROM"
                    " (SELECT key, value, row_number() OVER (PARTITION BY key ORDER BY seq DESC)"
                    " AS newest FROM temp.replica_stage WHERE dataset = ?1 AND key IN"
                    " (SELECT key FROM temp.replica_stage WHERE dataset = ?1 AND value IS NULL))"
                    " WHERE newest = 1 AND value IS NULL)", (dataset,))
            self._set_version(conn, dataset, version)
        self._versions[dataset] = version
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
