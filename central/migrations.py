"""The backbone's schema (devices, messages, datasets, commands, doors) as named append-only
migrations; the circulation domain owns patrons and cards and adds its own after."""

import sqlite_utils

from central import rejected
from edge_common.migrations import with_row_ids


def _messaging(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE devices (id TEXT PRIMARY KEY, site TEXT NOT NULL, kind TEXT NOT NULL,"
        " enrolled_at TEXT NOT NULL, revoked_at TEXT)"
    )
    db.execute(
        "CREATE TABLE processed (dev TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,"
        " received_at TEXT NOT NULL, response BLOB, PRIMARY KEY (dev, id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX processed_age ON processed (received_at)")
    db.execute(
        "CREATE TABLE rejected (dev TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,"
        " code TEXT NOT NULL, message TEXT NOT NULL, payload BLOB NOT NULL,"
        " received_at TEXT NOT NULL)"
    )


def _datasets(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE site_keys (site TEXT PRIMARY KEY, key_hex TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE dataset_heads (site TEXT NOT NULL, dataset TEXT NOT NULL,"
        " version INTEGER NOT NULL, PRIMARY KEY (site, dataset)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE dataset_rows (site TEXT NOT NULL, dataset TEXT NOT NULL, key TEXT NOT NULL,"
        " version INTEGER NOT NULL, value BLOB, PRIMARY KEY (site, dataset, key)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX dataset_rows_version ON dataset_rows (site, dataset, version, key)")
    db.execute(
        "CREATE TABLE dataset_deltas (site TEXT NOT NULL, dataset TEXT NOT NULL,"
        " version INTEGER NOT NULL, changes BLOB NOT NULL,"
        " PRIMARY KEY (site, dataset, version)) WITHOUT ROWID"
    )


def _access_log(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE access_log (dev TEXT NOT NULL, site TEXT NOT NULL, door TEXT NOT NULL,"
        " card TEXT NOT NULL, result TEXT NOT NULL, at TEXT NOT NULL, seq INTEGER NOT NULL,"
        " received_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX access_log_at ON access_log (site, at)")


def _device_status(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE device_status (dev TEXT PRIMARY KEY, online INTEGER NOT NULL,"
        " body BLOB NOT NULL, updated_at TEXT NOT NULL)"
    )


def _commands(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE commands (nonce TEXT PRIMARY KEY, dev TEXT NOT NULL, name TEXT NOT NULL,"
        " args BLOB NOT NULL, expires TEXT NOT NULL, issued_at TEXT NOT NULL, sent_at TEXT)"
    )
    db.execute("CREATE INDEX commands_unsent ON commands (issued_at) WHERE sent_at IS NULL")
    db.execute(
        "CREATE TABLE command_results (dev TEXT NOT NULL, nonce TEXT NOT NULL,"
        " name TEXT NOT NULL, outcome TEXT NOT NULL, result BLOB NOT NULL, at TEXT NOT NULL)"
    )


def _doors(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE door_alarms (dev TEXT NOT NULL, site TEXT NOT NULL, door TEXT NOT NULL,"
        " alarm TEXT NOT NULL, active INTEGER NOT NULL, at TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE roster (site TEXT NOT NULL, room TEXT NOT NULL, card TEXT NOT NULL,"
        " entered_at TEXT NOT NULL, PRIMARY KEY (site, room, card)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE sweeps (site TEXT NOT NULL, room TEXT NOT NULL, count INTEGER NOT NULL,"
        " inside BLOB NOT NULL, at TEXT NOT NULL)"
    )


def _command_keys(db: sqlite_utils.Database) -> None:
    """Each device's own key: central signs the commands it sends that device with it."""
    db.execute("ALTER TABLE devices ADD COLUMN command_key TEXT")


def _rejected_excerpts(db: sqlite_utils.Database) -> None:
    """Keep a refused event's first 256 bytes, size and SHA-256 instead of all of it, and count
    what the cap on the table drops."""
    db.conn.create_function("libedge_sha256", 1, rejected.digest, deterministic=True)
    db.execute(
        "CREATE TABLE rejected_kept (n INTEGER PRIMARY KEY, dev TEXT NOT NULL,"
        " id TEXT NOT NULL, type TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,"
        " size INTEGER NOT NULL, sha256 TEXT NOT NULL, excerpt BLOB NOT NULL,"
        " received_at TEXT NOT NULL)"
    )
    db.execute(
        "INSERT INTO rejected_kept (dev, id, type, code, message, size, sha256, excerpt,"
        " received_at) SELECT dev, id, type, code, substr(message, 1, 200),"
        " length(CAST(payload AS BLOB)), libedge_sha256(payload),"
        " substr(CAST(payload AS BLOB), 1, 256), received_at FROM rejected ORDER BY rowid"
    )
    db.execute("DROP TABLE rejected")
    db.execute("ALTER TABLE rejected_kept RENAME TO rejected")
    db.execute(
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID"
    )


def _provisioning(db: sqlite_utils.Database) -> None:
    """One-time enrolment tokens (their SHA-256 only) and when each was used; every version of
    each device's config; the version each device says it applied."""
    db.execute(
        "CREATE TABLE invitations (id TEXT PRIMARY KEY, dev TEXT NOT NULL, site TEXT NOT NULL,"
        " kind TEXT NOT NULL, secret_sha256 TEXT NOT NULL, created_at TEXT NOT NULL,"
        " expires TEXT NOT NULL, used_at TEXT)"
    )
    db.execute(
        "CREATE TABLE device_configs (dev TEXT NOT NULL, version INTEGER NOT NULL,"
        " body TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (dev, version))"
    )


def _status_since(db: sqlite_utils.Database) -> None:
    """When each device last came online or went offline (the fleet view's "since")."""
    db.execute("ALTER TABLE device_status ADD COLUMN since TEXT")
    db.execute("UPDATE device_status SET since = updated_at")


def _key_overlaps(db: sqlite_utils.Database) -> None:
    """A site's previous card key, still hashed into its lists until the overlap ends."""
    db.execute("CREATE TABLE site_keys_previous (site TEXT PRIMARY KEY, key_hex TEXT NOT NULL,"
               " until TEXT NOT NULL)")


def _ca_expiry(db: sqlite_utils.Database) -> None:
    """When the CA certificate a device enrolled with (and trusts the broker by) expires."""
    db.execute("ALTER TABLE devices ADD COLUMN ca_expires TEXT")


def _alarm_acknowledgements(db: sqlite_utils.Database) -> None:
    """Who acknowledged an alarm report, and when."""
    db.execute("ALTER TABLE door_alarms ADD COLUMN acked_by TEXT")
    db.execute("ALTER TABLE door_alarms ADD COLUMN acked_at TEXT")


def _compartments(db: sqlite_utils.Database) -> None:
    """Each pickup-locker compartment as its door last reported it: open, occupied, when."""
    db.execute(
        "CREATE TABLE compartments (dev TEXT NOT NULL, site TEXT NOT NULL,"
        " compartment TEXT NOT NULL, open INTEGER NOT NULL, occupied INTEGER NOT NULL,"
        " at TEXT NOT NULL, PRIMARY KEY (dev, compartment)) WITHOUT ROWID"
    )


def _resync_due(db: sqlite_utils.Database) -> None:
    """Devices that must copy their lists afresh (central was restored from a backup)."""
    db.execute("ALTER TABLE devices ADD COLUMN resync_due INTEGER NOT NULL DEFAULT 0")


def _dataset_rows_pull(db: sqlite_utils.Database) -> None:
    """A pull reads rows in (version, key) order with their values: from the index alone,
    instead of a lookup in the table for every row (four times faster for a full copy)."""
    db.execute("DROP INDEX dataset_rows_version")
    db.execute("CREATE INDEX dataset_rows_pull ON dataset_rows (site, dataset, version, key,"
               " value)")


MIGRATIONS = [
    ("0001_messaging", _messaging),
    ("0002_datasets", _datasets),
    ("0004_access_log", _access_log),
    ("0005_device_status", _device_status),
    ("0006_commands", _commands),
    ("0007_doors", _doors),
    ("0008_command_keys", _command_keys),
    ("0009_rejected_excerpts", _rejected_excerpts),
    ("0010_provisioning", _provisioning),
    ("0011_status_since", _status_since),
    ("0012_key_overlaps", _key_overlaps),
    ("0013_ca_expiry", _ca_expiry),
    ("0020_alarm_acknowledgements", _alarm_acknowledgements),
    ("0060_compartments", _compartments),
    ("0070_resync_due", _resync_due),
    ("0071_dataset_rows_pull", _dataset_rows_pull),
    ("0072_alarm_ids", lambda db: with_row_ids(db, "door_alarms")),
    ("0073_command_result_ids", lambda db: with_row_ids(db, "command_results")),
    ("0074_command_ids", lambda db: with_row_ids(db, "commands", "nonce TEXT PRIMARY KEY")),
]
