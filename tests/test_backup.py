"""Backups of central's store: an online copy consistent as of one moment, a restore that gives
back exactly what was copied, and devices that hold list versions the restored store never
made copy their lists afresh, so a card blocked after the restore is refused at the door."""

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

from central import catch_up, device_config, fleet
from central.circulation import allowlist
from central.database import connect
from central.ingest import Applier
from central.schema import META
from central.store import open_store
from edge_common.protocol.backbone import DeviceStatus
from edge_common.protocol.commands import COMMAND_RESULT, CommandResult
from tests.harness import wait_for
from tests.locks import add_card, read
from tests.test_circ_cli import run
from tests.test_ingest import msg


def dump(path) -> list[str]:
    """The store's whole content as SQL."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_a_restore_gives_back_exactly_the_store_that_was_backed_up(tmp_path):
    db, copy = tmp_path / "central.db", tmp_path / "monday.db"
    run(db, "init", "--admin", "boss")
    run(db, "category", "install-basics")
    run(db, "branch", "add", "center", "Central Library")
    run(db, "patron", "add", "Horvat", "--branch", "center", "--city-card", "04A1B2C3")
    assert "backed up" in run(db, "backup", str(copy))
    monday = dump(db)
    assert dump(copy) == monday
    run(db, "patron", "add", "Kos", "--branch", "center")
    assert "[backup_exists]" in run(db, "backup", str(copy), ok=False)   # never overwritten
    assert dump(copy) == monday

    assert "Aborted" in run(db, "restore", str(copy), ok=False, input="n\n")
    assert dump(db) != monday
    assert "restored" in run(db, "restore", str(copy), "--yes")
    assert dump(db) == monday


def test_a_restore_refuses_what_is_no_backup_and_leaves_the_store_as_it_was(tmp_path):
    db = tmp_path / "central.db"
    run(db, "init", "--admin", "boss")
    before = dump(db)
    ledger = tmp_path / "ledger.db"
    sqlite3.connect(ledger).execute("CREATE TABLE items (barcode TEXT)").connection.close()
    (tmp_path / "notes.txt").write_text("not a database")
    for source in (ledger, tmp_path / "notes.txt", tmp_path / "missing.db"):
        assert "[db_not_libedge]" in run(db, "restore", str(source), "--yes", ok=False)
    assert dump(db) == before


def test_a_backup_taken_while_central_writes_is_one_consistent_moment(tmp_path):
    """A writer adds pairs of rows in one transaction each while backups are taken: every
    backup holds whole pairs only, and passes SQLite's integrity check."""
    db = open_store(str(tmp_path / "central.db"))
    db.conn.execute("CREATE TABLE pairs (n INTEGER)")
    writer = open_store(str(tmp_path / "central.db"))
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            with writer.transaction():
                writer.executemany("INSERT INTO pairs VALUES (?)", [(n,), (n,)])
            n += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        from central.backup import backup
        for i in range(5):
            wait_for(lambda i=i: db.execute("SELECT count(*) FROM pairs").fetchone()[0] > i * 50,
                     what="more pairs written")
            backup(db, tmp_path / f"b{i}.db")
    finally:
        stop.set()
        thread.join()
    for i in range(5):
        conn = sqlite3.connect(tmp_path / f"b{i}.db")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM (SELECT n FROM pairs GROUP BY n"
                            " HAVING count(*) != 2)").fetchone() == (0,)
        conn.close()


def test_a_door_ahead_of_a_restored_central_copies_its_list_again(fleet_central, tmp_path):
    """The lock took versions made after the backup. Central is restored and starts again:
    a card added after the backup is gone from the door, and a card blocked after the restore
    (a version number the door already had) is refused."""
    fleet = fleet_central
    lock = fleet.lock(fleet.enrol("lock-7"))
    wait_for(lambda: lock.runtime.synced_at("allowlist"), what="allow-list synced")
    kept = add_card(fleet.db, "04A1B2C3", lock)
    fleet.admin("backup", str(tmp_path / "monday.db"))
    for n in range(3):
        add_card(fleet.db, f"04FFEE{n:02X}", lock)
    assert lock.present("wc", read("04FFEE02")) == "granted"

    fleet.central.stop()
    fleet.central = None
    out = fleet.admin("restore", str(tmp_path / "monday.db"), "--yes")
    assert "1 devices copy their lists afresh when next online (lock-7)" in out
    fleet.start_central()
    wait_for(lambda: lock.present("wc", read("04FFEE02")) == "card_unknown",
             what="the card added after the backup gone from the door")
    with fleet.db.transaction():
        fleet.db.execute("UPDATE patrons SET blocked = 1 WHERE id = ?", [kept])
        allowlist.refresh_patron(fleet.db, kept)
    wait_for(lambda: lock.present("wc", read("04A1B2C3")) != "granted",
             what="the card blocked after the restore refused")


def test_a_device_back_after_a_restore_copies_its_lists_once_and_takes_a_newer_config(
        fleet, tmp_path):
    """A restore marks every active device: central queues `resync` when its status shows it
    online (once while on its way, again after the command expired unanswered, never after the
    device took it), and a config version ahead of central's newest (made after the backup)
    gets the newest again under a version above the device's."""
    db = fleet.db
    fleet.enrol("lock-7")
    version, body = device_config.latest(db, "lock-7")
    level = DeviceStatus(online=True, config_version=version)
    assert catch_up.catch_up(db, "lock-7", level) == []
    fleet.admin("backup", str(tmp_path / "monday.db"))
    assert "(lock-7)" in fleet.admin("restore", str(tmp_path / "monday.db"), "--yes")
    ahead = DeviceStatus(online=True, config_version=version + 3)
    assert catch_up.catch_up(db, "lock-7", ahead) == ["resync", "config"]
    assert device_config.latest(db, "lock-7") == (version + 4, body)
    assert catch_up.catch_up(db, "lock-7", level) == []          # both still on their way
    later = datetime.now(UTC) + timedelta(hours=1)
    assert catch_up.catch_up(db, "lock-7", level, later) == ["resync", "config"]
    nonce = db.execute("SELECT nonce FROM commands WHERE name = 'resync'").fetchone()[0]
    result = CommandResult(name="resync", nonce=nonce, ok=True)
    assert Applier(db).apply([msg(COMMAND_RESULT.type, result, dev="lock-7")])
    assert catch_up.catch_up(db, "lock-7", level, later + timedelta(hours=1)) == ["config"]


def rows(url: str) -> list[tuple]:
    """A PostgreSQL store's content that a restore must give back: every table's rows."""
    db = connect(url)
    try:
        return [(t, sorted(map(repr, db.execute(f"SELECT * FROM {t}").fetchall())))
                for t in sorted(META.tables)]
    finally:
        db.close()


def test_a_postgresql_store_is_backed_up_by_pg_dump_and_restored_exactly(pg_database, tmp_path):
    """The same on PostgreSQL: pg_dump's archive, never written over; a restore that asks
    first, refuses what is no archive of central's store, gives back the same rows, and marks
    the devices to copy their lists afresh."""
    db, copy = pg_database, tmp_path / "monday.dump"
    run(db, "init", "--admin", "boss")
    run(db, "category", "install-basics")
    run(db, "branch", "add", "center", "Central Library")
    run(db, "patron", "add", "Horvat", "--branch", "center", "--city-card", "04A1B2C3")
    store = open_store(db)
    fleet.enrol(store, "lock-1", "center", "lockd")
    store.close()
    assert "backed up" in run(db, "backup", str(copy))
    monday = rows(db)
    run(db, "patron", "add", "Kos", "--branch", "center")
    assert "[backup_exists]" in run(db, "backup", str(copy), ok=False)
    assert rows(db) != monday
    (tmp_path / "notes.txt").write_text("not an archive")
    assert "[db_not_libedge]" in run(db, "restore", str(tmp_path / "notes.txt"), "--yes",
                                     ok=False)
    assert "Aborted" in run(db, "restore", str(copy), ok=False, input="n\n")
    assert "restored" in run(db, "restore", str(copy), "--yes")
    after = dict(rows(db))
    assert {t: r for t, r in after.items() if t != "devices"} == {
        t: r for t, r in monday if t != "devices"}
    store = open_store(db)
    assert store.execute("SELECT resync_due FROM devices WHERE id = 'lock-1'").fetchone() == (1,)
    assert store.execute("SELECT count(*) FROM patrons").fetchone() == (1,)
    run(db, "patron", "add", "Kos", "--branch", "center")     # its ids go on from the copy's
    store.close()
