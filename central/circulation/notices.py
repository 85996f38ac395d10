"""Notices to patrons (hold ready, due soon, overdue, membership): queued once per key."""

from typing import Any

import msgspec

from central.circulation.store import Store

_encode = msgspec.json.Encoder()


def queue(s: Store, patron: dict, branch: str, kind: str, key: str, channel: str | None = None,
          **body: Any) -> bool:
    """Queue a notice unless one with `key` exists; True when a new one was queued.

    The channel is the patron's choice unless the caller names one (a receipt asked for by
    e-mail goes by e-mail).
    """
    cur = s.conn.execute(
        "INSERT INTO notices (patron_id, branch_id, kind, key, channel, body, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        (patron["id"], branch, kind, key, channel or patron["notify"],
         _encode.encode(body).decode(), s.now().isoformat()))
    return cur.rowcount == 1


def has_email(patron: dict) -> bool:
    """Whether the patron has an e-mail address on file."""
    return bool((patron["email"] or "").strip())


def pending(s: Store, channel: str | None = None, branch: str | None = None,
            limit: int | None = None) -> list[dict]:
    """Notices not yet sent, per branch (separate letters per branch), oldest first."""
    rows = s.rows("SELECT n.*, p.surname, p.first_name, p.email, p.phone, p.address,"
                  " p.language"
                  " FROM notices n JOIN patrons p ON p.id = n.patron_id WHERE n.sent_at IS NULL"
                  " AND (? IS NULL OR n.channel = ?) AND (? IS NULL OR n.branch_id = ?)"
                  " ORDER BY n.branch_id, n.patron_id, n.id LIMIT ?",
                  [channel, channel, branch, branch, -1 if limit is None else limit])
    for r in rows:
        r["body"] = msgspec.json.decode(r["body"])
    return rows


def mark_sent(s: Store, ids: list[int]) -> None:
    """Record that notices went out."""
    with s.atomic():
        s.conn.executemany("UPDATE notices SET sent_at = ? WHERE id = ?",
                           [(s.now().isoformat(), i) for i in ids])
