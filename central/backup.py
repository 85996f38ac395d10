"""Backups of central's store: a consistent copy taken while central runs, and a restore after
which every device copies its lists afresh (a device may hold versions the restored store never
reached, and would take the store's next changes for ones it already has)."""

import os
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from central.database import Database, is_url
from central.store import is_store, open_store
from edge_common.errors import EdgeError


class BackupRefused(EdgeError, ValueError):
    """A backup that would overwrite a file, or a restore from a file that is no store."""

    code = "backup_refused"


def backup(db: Database, target: Path) -> int:
    """Copy the store into a new file at `target` (never over one), consistent as of one
    moment while central goes on writing; return its size in bytes. A SQLite store becomes a
    SQLite file; a PostgreSQL one, pg_dump's archive (one snapshot)."""
    if target.exists():
        raise BackupRefused(f"{target} exists; a backup never overwrites a file",
                            code="backup_exists")
    part = target.with_name(target.name + ".part")
    if db.postgres:
        _run_pg(["pg_dump", "--format=custom", f"--file={part}"], db.target)
    else:
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
    if is_url(db_path):
        if not _is_archive(source):
            raise BackupRefused(f"{source} is not pg_dump's archive of central's store",
                                code="db_not_libedge")
        _run_pg(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                 "--exit-on-error", str(source)], db_path)
    else:
        if not _is_backup(source):
            raise BackupRefused(f"{source} is not a backup of central's store",
                                code="db_not_libedge")
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


def _is_archive(source: Path) -> bool:
    """Whether `source` is pg_dump's archive holding central's store."""
    if not source.is_file() or source.read_bytes()[:5] != b"PGDMP":
        return False
    listed = subprocess.run(["pg_restore", "--list", str(source)], capture_output=True,
                            text=True, check=False)
    return listed.returncode == 0 and " TABLE DATA public _migrations " in listed.stdout


def _run_pg(args: list[str], url: str) -> None:
    """Run a PostgreSQL client program on the store at `url`; its password goes in the
    environment, never on a command line others can read."""
    parts = urlsplit(url)
    env = os.environ | ({"PGPASSWORD": unquote(parts.password)} if parts.password else {})
    user = f"{parts.username}@" if parts.username else ""
    bare = urlunsplit(parts._replace(netloc=user + parts.netloc.rsplit("@", 1)[-1]))
    done = subprocess.run([*args, f"--dbname={bare}"], capture_output=True, text=True,
                          env=env, check=False)
    if done.returncode:
        raise BackupRefused(f"{args[0]} failed: {done.stderr.strip()[:500]}",
                            code="backup_failed")


def _is_backup(source: Path) -> bool:
    """Whether `source` is a file holding central's store."""
    try:
        return source.is_file() and is_store(str(source), init=False)
    except sqlite3.DatabaseError:
        return False
