"""Refused events kept for staff: a bounded excerpt and a digest of each, the newest only.

A refused event is kept as its first EXCERPT_BYTES bytes, its size and its SHA-256, never
in full; past the configured number of rows (`central.keep_rejected`) the oldest go, and
how many went is counted where `libedge status` shows it.
"""

import hashlib

from central.database import Database

EXCERPT_BYTES = 256
MESSAGE_CHARS = 200  # a refusal's words, as answered, stored for replay and kept here
KEEP = 10_000
DROPPED = "rejected_dropped"


def digest(payload: bytes | str) -> str:
    """The SHA-256 of a payload, in hex."""
    return hashlib.sha256(payload.encode() if isinstance(payload, str) else payload).hexdigest()


def keep(conn: Database, dev: str, id: str, type: str, code: str, message: str,
         payload: bytes, received_at: str) -> None:
    """Keep a refused event (in the caller's transaction): its excerpt, size and digest."""
    conn.execute(
        "INSERT INTO rejected (dev, id, type, code, message, size, sha256, excerpt, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (dev, id, type, code, message[:MESSAGE_CHARS], len(payload), digest(payload),
         payload[:EXCERPT_BYTES], received_at),
    )


def trim(conn: Database, newest: int) -> int:
    """Drop all but the `newest` rows (in the caller's transaction); count and return the rest."""
    dropped = conn.execute(
        "DELETE FROM rejected WHERE n <= (SELECT max(n) FROM rejected) - ?", (newest,)
    ).rowcount
    if dropped > 0:
        conn.execute(
            "INSERT INTO counters VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value",
            (DROPPED, dropped))
    return dropped


def summary(db: Database) -> tuple[int, int]:
    """(rows kept, rows dropped so far)."""
    kept = db.execute("SELECT count(*) FROM rejected").fetchone()[0]
    row = db.execute("SELECT value FROM counters WHERE name = ?", [DROPPED]).fetchone()
    return kept, row[0] if row else 0
