"""Versioned datasets central replicates to devices: a compacted change log per site and dataset."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import msgspec

from central.database import Database
from edge_common.protocol import packed
from edge_common.protocol.datasets import JSON_PAGE, Change, Cursor, SyncPage

_json = msgspec.json.Encoder()
_decode = msgspec.json.Decoder()
Row = msgspec.Struct | dict[str, Any]  # a dataset row: its Struct, or a dict of the same fields


@dataclass(frozen=True)
class Delta:
    """One published version of a dataset at a site."""

    site: str
    dataset: str
    version: int
    changes: list[Change]  # decoded from JSON as [key, value] lists, which encode alike


DELTA_KEYS = 1000


def record(db: Database, site: str, dataset: str,
           changes: Mapping[str, Row | None]) -> int | None:
    """Write changes (value None deletes) as the next versions, in the caller's transaction.

    Large changes become several versions of at most DELTA_KEYS keys, so that every delta
    stays a small MQTT message a device accepts.
    """
    if not changes:
        return None
    conn = db
    row = conn.execute(
        "SELECT version FROM dataset_heads WHERE site = ? AND dataset = ?", (site, dataset)
    ).fetchone()
    version = row[0] if row else 0
    items = list(changes.items())
    for start in range(0, len(items), DELTA_KEYS):
        version += 1
        part = items[start:start + DELTA_KEYS]
        conn.executemany(
            "INSERT INTO dataset_rows VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, dataset, key)"
            " DO UPDATE SET version = excluded.version, value = excluded.value",
            [(site, dataset, k, version, None if v is None else _json.encode(v))
             for k, v in part],
        )
        conn.execute(
            "INSERT INTO dataset_deltas (site, dataset, version, changes) VALUES (?, ?, ?, ?)",
            (site, dataset, version, _json.encode([[k, v] for k, v in part])),
        )
    conn.execute(
        "INSERT INTO dataset_heads VALUES (?, ?, ?) ON CONFLICT (site, dataset)"
        " DO UPDATE SET version = excluded.version", (site, dataset, version),
    )
    return version


def replace(db: Database, site: str, dataset: str,
            rows: Mapping[str, Row], keys: Sequence[str] | None = None) -> int | None:
    """Make a dataset hold exactly `rows` (key → Struct or dict), or, given `keys`, make those
    keys hold exactly `rows` and leave the others alone: record only what differs, and
    deletions for keys that are gone, in the caller's transaction."""
    have = current(db, site, dataset, keys)
    changes: dict[str, Row | None] = {
        k: v for k, v in rows.items() if have.get(k) != _json.encode(v)}
    changes |= dict.fromkeys(have.keys() - rows.keys())
    return record(db, site, dataset, changes)


def current(db: Database, site: str, dataset: str,
            keys: Sequence[str] | None = None) -> dict[str, bytes]:
    """Every key a dataset holds at a site now (or those of `keys` it holds), with its row's
    JSON."""
    sql = ("SELECT key, value FROM dataset_rows WHERE site = ? AND dataset = ?"
           " AND value IS NOT NULL")
    if keys is None:
        return dict(db.execute(sql, (site, dataset)).fetchall())
    found: dict[str, bytes] = {}
    for start in range(0, len(keys), DELTA_KEYS):
        part = keys[start:start + DELTA_KEYS]
        found.update(db.execute(f"{sql} AND key IN ({','.join('?' * len(part))})",
                                     (site, dataset, *part)).fetchall())
    return found


def head(db: Database, site: str, dataset: str) -> int:
    """The current version of a dataset at a site (0: empty)."""
    row = db.execute(
        "SELECT version FROM dataset_heads WHERE site = ? AND dataset = ?", (site, dataset)
    ).fetchone()
    return row[0] if row else 0


def pull(db: Database, site: str, dataset: str, since: int, after: str,
         limit: int, format: int = 1) -> SyncPage:
    """Latest value of every key changed after (since, after), paged in (version, key) order;
    in `format` 2 packed small (`protocol.packed`), else as JSON of at most JSON_PAGE rows.
    A packed copy from version 0 pages by key instead (`_copy_page`)."""
    if format == packed.FORMAT and since == 0:
        return _copy_page(db, site, dataset, after, limit)
    if format != packed.FORMAT:
        limit = min(limit, JSON_PAGE)   # a JSON page of more would outgrow the payload limit
    # One row-value range on the (site, dataset, version, key) index: each page starts where
    # the last ended, so a full pull stays linear (an OR here scanned from the start each time).
    op, start = (">", (since, after)) if after else (">=", (since + 1, ""))
    rows = db.execute(
        "SELECT key, version, value FROM dataset_rows WHERE site = ? AND dataset = ?"
        f" AND (version, key) {op} (?, ?) ORDER BY version, key LIMIT ?",
        (site, dataset, *start, limit),
    ).fetchall()
    nxt = Cursor(rows[-1][1], rows[-1][0]) if len(rows) == limit else None
    top = head(db, site, dataset)
    if format == packed.FORMAT:
        return SyncPage(dataset=dataset, head=top, changes=[], next=nxt,
                        packed=packed.pack(dataset, [(k, v) for k, _, v in rows]))
    # each row's stored JSON goes out as it is, encoding to the object a device decodes
    changes = cast(list[Change], [[k, None if v is None else msgspec.Raw(v)] for k, _, v in rows])
    return SyncPage(dataset=dataset, head=top, changes=changes, next=nxt)


def _copy_page(db: Database, site: str, dataset: str, after: str,
               limit: int) -> SyncPage:
    """A page of a full copy in key order, read straight from the table: every key after
    `after` as it is now, deletions left out. The copy holds at least what the first page's
    `head` says; a device takes it as of that version and then pulls what changed since, as
    rows it had passed may have changed meanwhile.

    Keys are read cut as devices keep them (`packed.KEY_CHARS`), which spares central a
    string per row; the cursor, a whole key, is read on its own in the same snapshot."""
    sql = ("FROM dataset_rows WHERE site = ? AND dataset = ? AND key > ? AND value IS NOT NULL"
           " ORDER BY key")
    chars = packed.KEY_CHARS.get(dataset)
    kept = f"substr(key, 1, {int(chars)})" if chars else "key"
    with db.snapshot():
        top = head(db, site, dataset)   # before the rows: no row read is older than it
        rows = db.execute(f"SELECT {kept}, value {sql} LIMIT ?",
                               (site, dataset, after, limit)).fetchall()
        last = db.execute(f"SELECT key {sql} LIMIT 1 OFFSET ?",
                               (site, dataset, after, limit - 1)).fetchone() \
            if len(rows) == limit else None
    return SyncPage(dataset=dataset, head=top, changes=[],
                    next=Cursor(0, last[0]) if last else None,
                    packed=packed.pack_kept(rows))



def unpublished(db: Database, limit: int = 500) -> list[Delta]:
    """Deltas not yet published, in version order per dataset."""
    rows = db.execute(
        "SELECT site, dataset, version, changes FROM dataset_deltas"
        " ORDER BY site, dataset, version LIMIT ?", (limit,),
    ).fetchall()
    return [Delta(s, d, v, _decode.decode(c)) for s, d, v, c in rows]


def mark_published(db: Database, deltas: list[Delta]) -> None:
    """Forget deltas that went out: a device that missed one pulls from dataset_rows."""
    with db.transaction():
        db.executemany(
            "DELETE FROM dataset_deltas WHERE site = ? AND dataset = ? AND version = ?",
            [(d.site, d.dataset, d.version) for d in deltas],
        )
