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
    cur = s.db.execute(
        "INSERT INTO notices (patron_id, branch_id, kind, key, channel, body, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        (patron["id"], branch, kind, key, channel or patron["notify"],
         _encode.encode(body).decode(), s.now().isoformat()))
    return cur.rowcount == 1


def fresh_key(s: Store, subject: str) -> str:
    """A key for a notice about `subject` that may come true again (a hold ready a second
    time after a lend out of turn): `subject:#n`, one more than its notices so far. An
    earlier one not yet sent is withdrawn, so the patron gets the newest only."""
    span = [f"{subject}:", f"{subject};"]          # every key `subject:…`, by the key's index
    earlier = s.scalar("SELECT count(*) FROM notices WHERE key > ? AND key < ?", span)
    s.db.execute("UPDATE notices SET withdrawn = 'superseded' WHERE key > ? AND key < ?"
                   " AND sent_at IS NULL AND withdrawn IS NULL", span)
    return f"{subject}:#{earlier + 1}"


def has_email(patron: dict) -> bool:
    """Whether the patron has an e-mail address on file."""
    return bool((patron["email"] or "").strip())


ALL = 2 ** 62   # a LIMIT both stores read as "no limit"


def pending(s: Store, channel: str | None = None, branch: str | None = None,
            limit: int | None = None) -> list[dict]:
    """Notices not yet sent, per branch (separate letters per branch), oldest first."""
    rows = s.rows("SELECT n.*, p.surname, p.first_name, p.email, p.phone, p.address,"
                  " p.language"
                  " FROM notices n JOIN patrons p ON p.id = n.patron_id WHERE n.sent_at IS NULL"
                  " AND n.withdrawn IS NULL"
                  " AND (? IS NULL OR n.channel = ?) AND (? IS NULL OR n.branch_id = ?)"
                  " ORDER BY n.branch_id, n.patron_id, n.id LIMIT ?",
                  [channel, channel, branch, branch, ALL if limit is None else limit])
    for r in rows:
        r["body"] = msgspec.json.decode(r["body"])
    return rows


# What must still hold when a notice goes out, by the first part of its key: the SQL is true
# while the notice is, given the next parts of the key.
STILL_TRUE = {
    "hold_ready": ("SELECT 1 FROM holds WHERE id = ? AND state = 'ready'", "hold_not_ready"),
    "ib_ready": ("SELECT 1 FROM ib_loans WHERE id = ? AND state = 'at_branch'", "hold_not_ready"),
    "overdue": ("SELECT 1 FROM loans WHERE id = ? AND returned_at IS NULL", "loan_returned"),
    "due_soon": ("SELECT 1 FROM loans WHERE id = ? AND returned_at IS NULL AND due = ?",
                 "loan_changed"),
    "membership": ("SELECT 1 FROM patrons WHERE id = ? AND valid_until = ?", "membership_renewed"),
}


def withdrawn(s: Store, notice: dict) -> str | None:
    """Why a queued notice is no longer true (a hold lent out of turn or cancelled, a loan
    returned or renewed, a membership renewed) and must not go out; None while it is.
    A notice that is no longer true is withdrawn for good."""
    kind, *parts = notice["key"].split(":")
    if kind not in STILL_TRUE:
        return None
    sql, reason = STILL_TRUE[kind]
    if s.scalar(sql, parts[:sql.count("?")]):
        return None
    with s.atomic():
        s.update("notices", notice["id"], {"withdrawn": reason})
    return reason


def mark_sent(s: Store, ids: list[int]) -> None:
    """Record that notices went out."""
    with s.atomic():
        s.db.executemany("UPDATE notices SET sent_at = ? WHERE id = ?",
                           [(s.now().isoformat(), i) for i in ids])
