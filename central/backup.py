"""Backups of central's store: a consistent copy taken while central runs, and a restore after
which every device copies its lists afresh (a device may hold versions the restored store never
reached, and would take the store's next changes for ones it already has)."""

import os
import sqlite3
from pathlib import Path

from central.database import Database
from central.store import is_store, open_store
from edge_common.errors import EdgeError


class BackupRefused(EdgeError, ValueError):
    """A backup that would overwrite a file, or a restore from a file that is no store."""

    code = "backup_refused"


def backup(db: Database, target: Path) -> int:
    """Copy the store into a new file at `target` (never over one), consistent as of one
    moment while central goes on writing; return its size in bytes."""
    if target.exists():
        raise BackupRefused(f"{target} exists; a backup never overwrites a file",
                            code="backup_exists")
    part = target.with_name(target.name + ".part")
    copy = sqlite3.connect(part)
    try:
        db.conn.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")   # one self-contained file
    finally:
        copy.close()
    with open(part, "rb") as written:
        os.fsync(written.fileno())
    os.replace(part, target)
    return target.stat().st_size


def restore(source: Path, db_path: str) -> list[str]:
    """Make the store at `db_path` (made if missing) exactly the backup at `source`, bring it to
    this version's schema, and mark every active device to copy its lists afresh when it is
    next online (`catch_up`); return those devices."""
    if not _is_backup(source):
        raise BackupRefused(f"{source} is not a backup of central's store", code="db_not_libedge")
    db = open_store(db_path, init=True)
    original = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)
    try:
        original.backup(db.conn)
    finally:
        original.close()
        db.close()
    db = open_store(db_path)
    try:
        with db.transaction():
            devices = [dev for (dev,) in db.execute(
                "UPDATE devices SET resync_due = 1 WHERE revoked_at IS NULL"
                " AND command_key IS NOT NULL RETURNING id")]
    finally:
        db.close()
    return sorted(devices)


def _is_backup(source: Path) -> bool:
    """Whether `source` is a file holding central's store."""
    try:
        return source.is_file() and is_store(str(source), init=False)
    except sqlite3.DatabaseError:
        return False
