"""Each device's configuration as data: every version kept at central, the newest is the one
devices are given at enrolment and pushed (signed) as a `config` command."""

import json
from datetime import UTC, datetime
from typing import Any

import sqlite_utils


def latest(db: sqlite_utils.Database, dev: str) -> tuple[int, dict[str, Any]]:
    """The newest version of a device's config and its body ((0, {}) when it has none)."""
    row = db.execute("SELECT version, body FROM device_configs WHERE dev = ?"
                     " ORDER BY version DESC LIMIT 1", [dev]).fetchone()
    return (row[0], json.loads(row[1])) if row else (0, {})


def store(db: sqlite_utils.Database, dev: str, body: dict[str, Any]) -> int:
    """Keep `body` as the device's next config version; return that version."""
    with db.atomic():
        version = latest(db, dev)[0] + 1
        db.execute("INSERT INTO device_configs VALUES (?, ?, ?, ?)",
                   [dev, version, json.dumps(body, sort_keys=True),
                    datetime.now(UTC).isoformat()])
    return version
