"""What a device missed while it was away longer than a command lives (15 minutes at most):
its site's card key and its config, queued again when its status shows it lacks them; and a
full copy of its lists until it has made one since central was restored from a backup."""

from datetime import UTC, datetime

from central import commands, device_config
from central.database import Database
from central.site_keys import TTL
from edge_common.card_keys import key_id
from edge_common.protocol.backbone import DeviceStatus


def _pending(db: Database, dev: str, name: str, now: datetime) -> bool:
    return db.execute("SELECT 1 FROM commands WHERE dev = ? AND name = ? AND expires > ?",
                      [dev, name, now.isoformat()]).fetchone() is not None


def _answered(db: Database, dev: str, version: int) -> bool:
    """Whether the device answered a `config` command of this version (a refusal too: an
    invalid config is not pushed again)."""
    return db.execute(
        "SELECT 1 FROM command_results r JOIN commands c ON c.nonce = r.nonce WHERE r.dev = ?"
        " AND c.name = 'config'"
        f" AND CAST({db.json_field('c.args', 'version', binary=True)} AS INTEGER) = ?",
        [dev, version]).fetchone() is not None


def catch_up(db: Database, dev: str, status: DeviceStatus,
             now: datetime | None = None) -> list[str]:
    """Queue `card_key` and `config` again for an active device whose status shows an older
    key or config, and `resync` while central's restore left it due; each unless one is still
    on its way. A config version ahead of central's newest (central was
    restored) gets the newest again under a version above it. Returns the names queued."""
    now = now or datetime.now(UTC)
    row = db.execute(
        "SELECT k.key_hex, d.resync_due FROM devices d JOIN site_keys k ON k.site = d.site"
        " WHERE d.id = ?"
        " AND d.revoked_at IS NULL AND d.command_key IS NOT NULL", [dev]).fetchone()
    if row is None:
        return []
    queued = []
    if (status.card_key and status.card_key != key_id(bytes.fromhex(row[0]))
            and not _pending(db, dev, "card_key", now)):
        commands.issue(db, dev, "card_key", {"key": row[0]}, TTL)
        queued.append("card_key")
    if row[1] and not _pending(db, dev, "resync", now):
        commands.issue(db, dev, "resync", {}, TTL)
        queued.append("resync")
    version, body = device_config.latest(db, dev)
    if 0 < version < status.config_version:      # its config is newer than central's newest
        version = device_config.store(db, dev, body, after=status.config_version)
    if (status.config_version < version and not _pending(db, dev, "config", now)
            and not _answered(db, dev, version)):
        commands.issue(db, dev, "config", {"version": version, "config": body}, TTL)
        queued.append("config")
    return queued
