"""Who is inside each room as this lock knows it: entries by card, exits by reader or button."""

import sqlite3
import time
from collections.abc import Callable

from edge_common.migrations import apply, connect


def _schema(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE inside (room TEXT NOT NULL, card TEXT NOT NULL, entered_at REAL NOT NULL,"
        " PRIMARY KEY (room, card)) WITHOUT ROWID"
    )
    db.execute("CREATE TABLE anonymous_exits (room TEXT PRIMARY KEY, count INTEGER NOT NULL)")


MIGRATIONS = [("presence_0001_create", _schema)]


class Presence:
    """A persistent roster per room, so a restart does not forget who is inside."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self._db = connect(path, synchronous="NORMAL")
        apply(self._db, MIGRATIONS)
        self._clock = clock

    def is_inside(self, room: str, card: str) -> bool:
        """Whether the card entered the room and has not left."""
        return self._db.execute(
            "SELECT 1 FROM inside WHERE room = ? AND card = ?", (room, card)
        ).fetchone() is not None

    def enter(self, room: str, card: str) -> None:
        """Record an entry by card."""
        self._db.execute(
            "INSERT INTO inside VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET"
            " entered_at = excluded.entered_at", (room, card, self._clock()),
        )

    def leave(self, room: str, card: str | None) -> None:
        """Record an exit: by card (exit reader) or anonymous (exit button)."""
        conn = self._db
        if card is not None and conn.execute(
                "DELETE FROM inside WHERE room = ? AND card = ?", (room, card)).rowcount:
            return
        conn.execute(
            "INSERT INTO anonymous_exits VALUES (?, 1) ON CONFLICT DO UPDATE SET"
            " count = count + 1", (room,),
        )

    def count(self, room: str) -> int:
        """People inside: card entries not matched by a card exit, less anonymous exits."""
        conn = self._db
        entered = conn.execute("SELECT count(*) FROM inside WHERE room = ?", (room,)).fetchone()[0]
        row = conn.execute("SELECT count FROM anonymous_exits WHERE room = ?", (room,)).fetchone()
        return max(0, entered - (row[0] if row else 0))

    def roster(self, room: str) -> list[str]:
        """Card hashes that entered and did not leave by card, oldest first."""
        return [r[0] for r in self._db.execute(
            "SELECT card FROM inside WHERE room = ? ORDER BY entered_at", (room,))]

    def sweep(self, room: str) -> tuple[list[str], int]:
        """End of the evening: return (roster, count) and start the room afresh."""
        roster, count = self.roster(room), self.count(room)
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM inside WHERE room = ?", (room,))
            self._db.execute("DELETE FROM anonymous_exits WHERE room = ?", (room,))
        return roster, count

    def close(self) -> None:
        """Close the database."""
        self._db.close()
