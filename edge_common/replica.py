"""Replicated datasets on a device: versioned rows applied only in order, pulled on a gap."""

import threading
import time
from collections.abc import Iterable
from enum import Enum

import msgspec

from edge_common.migrations import apply, connect

Change = tuple[str, dict | None]


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


def _schema(db) -> None:
    db.execute(
        "CREATE TABLE replica_meta (dataset TEXT PRIMARY KEY, version INTEGER NOT NULL,"
        " synced_at REAL)"
    )
    db.execute(
        "CREATE TABLE replica_rows (dataset TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
        " PRIMARY KEY (dataset, key)) WITHOUT ROWID"
    )


MIGRATIONS = [("replica_0001_create", _schema)]
_json = msgspec.json.Encoder()


class Replicas:
    """The device's copy of central's datasets, one SQLite file."""

    def __init__(self, path: str, clock=time.time):
        self._db = connect(path, synchronous="NORMAL")
        apply(self._db, MIGRATIONS)
        self._lock = threading.Lock()
        self._clock = clock
        self._versions = dict(
            self._db.execute("SELECT dataset, version FROM replica_meta").fetchall()
        )

    def version(self, dataset: str) -> int:
        """The version this device holds (0: nothing yet)."""
        return self._versions.get(dataset, 0)

    def synced_at(self, dataset: str) -> float | None:
        """Wall-clock time the dataset was last confirmed current with central."""
        with self._lock:
            row = self._db.execute(
                "SELECT synced_at FROM replica_meta WHERE dataset = ?", (dataset,)
            ).fetchone()
        return row[0] if row else None

    def get(self, dataset: str, key: str) -> bytes | None:
        """The raw JSON value of a key, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM replica_rows WHERE dataset = ? AND key = ?", (dataset, key)
            ).fetchone()
        return row[0] if row else None

    def count(self, dataset: str) -> int:
        """How many keys the dataset holds."""
        return self._db.execute(
            "SELECT count(*) FROM replica_rows WHERE dataset = ?", (dataset,)
        ).fetchone()[0]

    def apply(self, dataset: str, changes: Iterable[Change], version: int | None) -> None:
        """Write changes; with a version, also move the dataset to it and mark it current."""
        upserts, deletes = [], []
        for key, value in changes:
            if value is None:
                deletes.append((dataset, key))
            else:
                upserts.append((dataset, key, _json.encode(value)))
        with self._lock:
            conn = self._db
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO replica_rows VALUES (?, ?, ?) ON CONFLICT (dataset, key)"
                    " DO UPDATE SET value = excluded.value", upserts,
                )
                conn.executemany(
                    "DELETE FROM replica_rows WHERE dataset = ? AND key = ?", deletes
                )
                if version is not None:
                    self._set_version(conn, dataset, version)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        if version is not None:
            self._versions[dataset] = version

    def _set_version(self, conn, dataset: str, version: int) -> None:
        conn.execute(
            "INSERT INTO replica_meta VALUES (?, ?, ?) ON CONFLICT (dataset) DO UPDATE SET"
            " version = excluded.version, synced_at = excluded.synced_at",
            (dataset, version, self._clock()),
        )

    def close(self) -> None:
        """Close the database."""
        self._db.close()
