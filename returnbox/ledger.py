"""The box's durable record of every item: one row per item, its state committed before the box
acts on it (SQLite, WAL, synchronous=FULL), so a restart resumes each unfinished item.

States: detected → identified → checked_in | queued | rejected → diverted → arrived | jammed
(→ cleared by staff). An item is never checked in twice: its request id is kept and reused.
"""

import json
import os
import signal
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

from edge_common.envelope import new_id
from edge_common.migrations import apply, connect

State = Literal["detected", "identified", "checked_in", "queued", "rejected", "diverted",
                "arrived", "jammed", "cleared"]
UNFINISHED: tuple[State, ...] = ("detected", "identified", "checked_in", "queued", "diverted")
IN_A_BIN: tuple[State, ...] = ("diverted", "arrived")
CRASH_ENV = "LIBEDGE_RETURNBOX_CRASH_AT"   # tests: kill -9 this process once a state is committed


@dataclass(frozen=True)
class Item:
    """One returned item as the ledger holds it."""

    id: int
    request: str                 # the loan.checkin id, reused for every retry and the queue
    visit: int
    at: datetime                 # when it went in: the check-in's date, online or offline
    state: State
    barcode: str = ""
    card: str | None = None
    route: str = ""
    bin: str = ""
    title: str = ""
    fine: int = 0
    pickup_by: date | None = None
    warnings: tuple[str, ...] = ()
    refusal: str | None = None
    offline: bool = False        # routed from the datasets: central confirms it later
    emptied: bool = False


def _schema(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, request TEXT NOT NULL UNIQUE,"
        " visit INTEGER NOT NULL, at TEXT NOT NULL, state TEXT NOT NULL,"
        " barcode TEXT NOT NULL DEFAULT '', card TEXT, route TEXT NOT NULL DEFAULT '',"
        " bin TEXT NOT NULL DEFAULT '', title TEXT NOT NULL DEFAULT '',"
        " fine INTEGER NOT NULL DEFAULT 0, pickup_by TEXT, warnings TEXT NOT NULL DEFAULT '[]',"
        " refusal TEXT, offline INTEGER NOT NULL DEFAULT 0,"
        " emptied INTEGER NOT NULL DEFAULT 0, changed TEXT NOT NULL)")
    db.execute("CREATE INDEX items_state ON items (state)")
    db.execute("CREATE INDEX items_bin ON items (bin, emptied)")


MIGRATIONS = [("returnbox_0001_items", _schema)]
_COLUMNS = ("id", "request", "visit", "at", "state", "barcode", "card", "route", "bin", "title",
            "fine", "pickup_by", "warnings", "refusal", "offline", "emptied")


def _item(row: tuple[Any, ...]) -> Item:
    v = dict(zip(_COLUMNS, row, strict=True))
    return Item(v["id"], v["request"], v["visit"], datetime.fromisoformat(v["at"]), v["state"],
                v["barcode"], v["card"], v["route"], v["bin"], v["title"], v["fine"],
                date.fromisoformat(v["pickup_by"]) if v["pickup_by"] else None,
                tuple(json.loads(v["warnings"])), v["refusal"], bool(v["offline"]),
                bool(v["emptied"]))


class Ledger:
    """Items and their states; every write is one committed transaction (used by one thread;
    readers on other threads get their own snapshot)."""

    def __init__(self, path: str, crash_at: str | None = None) -> None:
        self._db = connect(path, synchronous="FULL")
        self._lock = threading.Lock()
        apply(self._db, MIGRATIONS)
        self._crash_at = crash_at if crash_at is not None else os.environ.get(CRASH_ENV)
        self.after_commit: Callable[[Item], None] = lambda item: None

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def new(self, visit: int, state: State, barcode: str = "", card: str | None = None,
            at: datetime | None = None) -> Item:
        """Record an item that just went in (`at`: now), with a fresh request id."""
        when = at or datetime.now(UTC)
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO items (request, visit, at, state, barcode, card, changed)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (new_id(), visit, when.isoformat(), state, barcode, card, _now()))
            item = self._get(cur.lastrowid or 0)
        self._committed(item)
        return item

    def move(self, item: Item, state: State, **facts: Any) -> Item:
        """Commit the item's next state (and facts learnt on the way) before anyone acts on it."""
        new = replace(item, state=state, **facts)
        with self._lock:
            self._db.execute(
                "UPDATE items SET state = ?, barcode = ?, route = ?, bin = ?, title = ?,"
                " fine = ?, pickup_by = ?, warnings = ?, refusal = ?, offline = ?, changed = ?"
                " WHERE id = ?",
                (state, new.barcode, new.route, new.bin, new.title, new.fine,
                 new.pickup_by.isoformat() if new.pickup_by else None,
                 json.dumps(list(new.warnings)), new.refusal, int(new.offline), _now(),
                 item.id))
        self._committed(new)
        return new

    def _committed(self, item: Item) -> None:
        if self._crash_at == item.state:
            os.kill(os.getpid(), signal.SIGKILL)   # a power cut right after this commit
        self.after_commit(item)

    def _get(self, id: int) -> Item:
        row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM items WHERE id = ?",
                               (id,)).fetchone()
        return _item(row)

    def _select(self, where: str, args: tuple[Any, ...] = ()) -> list[Item]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM items WHERE {where}", args).fetchall()
        return [_item(r) for r in rows]

    def unfinished(self) -> list[Item]:
        """Items a restart must carry on with, oldest first."""
        marks = ",".join("?" * len(UNFINISHED))
        return self._select(f"state IN ({marks}) ORDER BY id", UNFINISHED)

    def jammed(self) -> list[Item]:
        """Items that never reached their bin and wait for staff."""
        return self._select("state = 'jammed' ORDER BY id")

    def in_box(self, barcode: str) -> Item | None:
        """The item with this barcode that is in a bin not emptied since (or on its way)."""
        found = self._select("barcode = ? AND emptied = 0 AND state IN"
                             " ('identified', 'checked_in', 'queued', 'diverted', 'arrived')"
                             " ORDER BY id DESC LIMIT 1", (barcode,))
        return found[0] if found else None

    def visit_items(self, visit: int) -> list[Item]:
        """The items of one visit, in the order they went in."""
        return self._select("visit = ? ORDER BY id", (visit,))

    def last_visit(self) -> int:
        """The highest visit number so far (0: none)."""
        with self._lock:
            return int(self._db.execute("SELECT coalesce(max(visit), 0) FROM items")
                       .fetchone()[0])

    def bin_items(self, bin: str) -> list[Item]:
        """What lies in a bin since it was last emptied, newest first."""
        return self._select("bin = ? AND emptied = 0 AND state = 'arrived' ORDER BY id DESC",
                            (bin,))

    def counts(self) -> dict[str, int]:
        """How many items lie in each bin since it was last emptied."""
        with self._lock:
            rows = self._db.execute("SELECT bin, count(*) FROM items WHERE emptied = 0 AND"
                                    " state = 'arrived' GROUP BY bin").fetchall()
        return {b: n for b, n in rows}

    def prune(self, before: datetime) -> int:
        """Forget finished items (emptied from their bin, not taken, or cleared by staff) that
        went in before `before`; returns how many."""
        with self._lock:
            return self._db.execute(
                "DELETE FROM items WHERE at < ? AND (emptied = 1 OR state IN ('rejected',"
                " 'cleared'))", (before.isoformat(),)).rowcount

    def emptied(self, bin: str) -> int:
        """Staff emptied a bin: its items no longer count; returns how many there were."""
        with self._lock:
            return self._db.execute("UPDATE items SET emptied = 1, changed = ? WHERE bin = ?"
                                    " AND emptied = 0 AND state = 'arrived'",
                                    (_now(), bin)).rowcount


def _now() -> str:
    return datetime.now(UTC).isoformat()
