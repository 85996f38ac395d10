"""The device outbox: the durable record of every event until central acknowledges applying it."""

import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

import msgspec

from edge_common import envelope
from edge_common.config import OutboxConfig
from edge_common.migrations import apply, connect

log = logging.getLogger(__name__)


class Priority(IntEnum):
    """What may be dropped when the outbox is full: higher numbers go first, KEEP never."""

    KEEP = 0
    NORMAL = 1
    LOW = 2


@dataclass(frozen=True)
class Pending:
    """An event waiting for central's ack."""

    seq: int
    id: str
    payload: bytes


def _schema(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
        " type TEXT NOT NULL, priority INTEGER NOT NULL, size INTEGER NOT NULL,"
        " payload BLOB NOT NULL)"
    )
    db.execute("CREATE INDEX outbox_drop ON outbox (priority, seq) WHERE priority > 0")
    db.execute("CREATE TABLE outbox_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")


MIGRATIONS = [("outbox_0001_create", _schema)]


class Outbox:
    """Events committed before anything else happens, deleted only when central acks their id."""

    def __init__(self, path: str, dev: str, cfg: OutboxConfig) -> None:
        self.dev = dev
        self.cfg = cfg
        self._lock = threading.Lock()
        self._db = connect(path, synchronous="FULL")
        if cfg.secure_delete:
            self._db.execute("PRAGMA secure_delete=ON")
        apply(self._db, MIGRATIONS)
        conn = self._db
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='outbox'").fetchone()
        self._next_seq = (row[0] if row else 0) + 1
        self.depth, self.bytes = conn.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM outbox"
        ).fetchone()
        row = conn.execute("SELECT value FROM outbox_meta WHERE key='dropped'").fetchone()
        self.dropped = row[0] if row else 0

    @property
    def over_capacity(self) -> bool:
        """True when undroppable events alone exceed the configured cap."""
        return self.depth > self.cfg.max_rows or self.bytes > self.cfg.max_bytes

    def pending(self, type: str, containing: str) -> int:
        """How many unacked events of `type` hold the text `containing` (e.g. a card hash)."""
        with self._lock:
            return self._db.execute(
                "SELECT count(*) FROM outbox WHERE type = ? AND instr(payload, ?) > 0",
                (type, containing.encode())).fetchone()[0]

    def oldest_at(self) -> datetime | None:
        """When the oldest event still waiting for an ack was made (None when empty)."""
        with self._lock:
            row = self._db.execute("SELECT payload FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return envelope.decode(row[0]).at if row else None

    def add(self, type: str, body: dict[str, Any] | msgspec.Struct,
            priority: Priority = Priority.KEEP, id: str | None = None,
            at: datetime | None = None) -> envelope.Envelope:
        """Commit one event durably and return its envelope (`id`: reuse a request's id; `at`:
        when it happened, if not now)."""
        return self.add_many([(type, body, priority, id, at)])[0]

    def add_many(
        self, events: Iterable[tuple]
    ) -> list[envelope.Envelope]:
        """Commit several (type, body, priority[, id[, at]]) events in one transaction (one
        fsync)."""
        with self._lock:
            made, rows = [], []
            seq = self._next_seq
            for type, body, priority, *given in events:
                id, at = (*given, None, None)[:2]
                env = envelope.make(type, self.dev, body, seq=seq, id=id, at=at)
                payload = envelope.encode(env)
                rows.append((seq, env.id, type, int(priority), len(payload), payload))
                made.append(env)
                seq += 1
            conn = self._db
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT INTO outbox VALUES (?, ?, ?, ?, ?, ?)", rows)
                self.depth += len(rows)
                self.bytes += sum(r[4] for r in rows)
                self._enforce_cap(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                self._recount()
                raise
            self._next_seq = seq
            return made

    def _enforce_cap(self, conn: sqlite3.Connection) -> None:
        """Drop the oldest droppable events, lowest priority first, until under the cap."""
        dropped = 0
        while self.over_capacity:
            victims = conn.execute(
                "SELECT seq, size FROM outbox WHERE priority > 0"
                " ORDER BY priority DESC, seq LIMIT 100"
            ).fetchall()
            if not victims:
                break
            for seq, size in victims:
                if not self.over_capacity:
                    break
                conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
                self.depth -= 1
                self.bytes -= size
                dropped += 1
        if dropped:
            self.dropped += dropped
            conn.execute(
                "INSERT INTO outbox_meta VALUES ('dropped', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (self.dropped,),
            )
            log.warning("outbox full: dropped %d low-priority events", dropped)

    def _recount(self) -> None:
        self.depth, self.bytes = self._db.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM outbox"
        ).fetchone()

    def acked(self, ids: Sequence[str]) -> int:
        """Delete the events central has applied; return how many were still here."""
        if not ids:
            return 0
        with self._lock:
            conn = self._db
            conn.execute("BEGIN IMMEDIATE")
            gone = 0
            for chunk in range(0, len(ids), 500):
                part = list(ids[chunk : chunk + 500])
                marks = ",".join("?" * len(part))
                size = conn.execute(
                    f"SELECT count(*), coalesce(sum(size), 0) FROM outbox WHERE id IN ({marks})",
                    part,
                ).fetchone()
                conn.execute(f"DELETE FROM outbox WHERE id IN ({marks})", part)
                gone += size[0]
                self.bytes -= size[1]
            conn.execute("COMMIT")
            self.depth -= gone
            if self.cfg.secure_delete and gone:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return gone

    def after(self, seq: int, limit: int) -> list[Pending]:
        """The oldest events with a sequence number above `seq`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, id, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
        return [Pending(*r) for r in rows]

    def get(self, ids: Sequence[str]) -> list[Pending]:
        """The events with these ids that are still waiting, in sequence order."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT seq, id, payload FROM outbox WHERE id IN ({marks}) ORDER BY seq",
                list(ids),
            ).fetchall()
        return [Pending(*r) for r in rows]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
