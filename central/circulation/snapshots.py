"""What the audit log keeps of the record a staff command acts on: the values that changed,
as they were before and are after, so every command's row says what it changed."""

from typing import Any

from central.circulation.store import Store

QUERIES = {
    "patron": "SELECT status, blocked, note, valid_until, home_branch, archived_at, form_signed,"
              " CASE WHEN pin_hash IS NULL THEN 0 ELSE 1 END AS pin, (SELECT {joined_c} FROM"
              " (SELECT kind || ':' || uid AS c FROM cards WHERE patron_id = p.id ORDER BY uid)"
              " AS cs) AS cards, (SELECT {joined_l} FROM (SELECT id || '=' || due AS l FROM"
              " loans WHERE patron_id = p.id AND returned_at IS NULL ORDER BY id) AS ls)"
              " AS loans_due FROM patrons p WHERE id = ?",
    "hold": "SELECT state, item_id, pickup_by FROM holds WHERE id = ?",
    "ib": "SELECT state, lent_at, due FROM ib_loans WHERE id = ?",
    "item": "SELECT status, home_branch, at_branch FROM items WHERE barcode = ?",
    "form": "SELECT state, revision FROM forms WHERE id = ?",
}


NUMBERED = frozenset({"patron", "hold", "ib", "form"})


def take(s: Store, subject: tuple[str, object]) -> dict[str, Any]:
    """The record's values now (empty when the kind has none kept, or the record is not there)."""
    kind, key = subject
    if kind not in QUERIES or not isinstance(key, (int, str)):
        return {}
    if kind in NUMBERED:            # a record kept by number: a text that is none finds none
        if isinstance(key, str) and not key.strip().isdecimal():
            return {}
        key = int(key)
    sql = QUERIES[kind].format(joined_c=s.db.joined("c", " "), joined_l=s.db.joined("l", " "))
    return s.row(sql, [key]) or {}


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any] | None,
                                                                    dict[str, Any]]:
    """The values that differ, as they were (None for a record that is new, or when nothing
    changed) and as they are."""
    changed = [k for k in after.keys() | before.keys() if before.get(k) != after.get(k)]
    return ({k: before.get(k) for k in sorted(changed)} if before and changed else None,
            {k: after.get(k) for k in sorted(changed)})
