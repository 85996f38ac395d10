"""Each device's configuration as data: every version kept at central, the newest is the one
devices are given at enrolment and pushed (signed) as a `config` command."""

import copy
import json
import tomllib
from datetime import UTC, datetime
from typing import Any

from central.circulation.store import Store
from central.database import Database
from edge_common.errors import EdgeError
from edge_common.live_config import LOCAL


def latest(db: Database, dev: str) -> tuple[int, dict[str, Any]]:
    """The newest version of a device's config and its body ((0, {}) when it has none)."""
    row = db.execute("SELECT version, body FROM device_configs WHERE dev = ?"
                     " ORDER BY version DESC LIMIT 1", [dev]).fetchone()
    return (row[0], json.loads(row[1])) if row else (0, {})


def store(db: Database, dev: str, body: dict[str, Any], after: int = 0) -> int:
    """Keep `body` as the device's next config version, above `after` too; return that
    version."""
    with Store(db).atomic():
        version = max(latest(db, dev)[0], after) + 1
        db.execute("INSERT INTO device_configs VALUES (?, ?, ?, ?)",
                   [dev, version, json.dumps(body, sort_keys=True),
                    datetime.now(UTC).isoformat()])
    return version


class ConfigKeyRefused(EdgeError, ValueError):
    """A `KEY=VALUE` that names no settable key: `config_key_invalid`, `door_unknown`, or
    `config_key_local` (the device and mqtt sections stay the device's own)."""

    code = "config_key_invalid"


def _value(raw: str) -> Any:
    """A TOML value (`4`, `true`, `"x"`, `[1, 2]`), or the text itself when it is none."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def assign(body: dict[str, Any], assignment: str) -> dict[str, Any]:
    """A copy of `body` with one `KEY=VALUE` set; `door.ID.` names the door with that id."""
    key, sep, raw = assignment.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(parts):
        raise ConfigKeyRefused(f"{assignment!r}: use KEY=VALUE, e.g. door.wc.unlock_seconds=4")
    if parts[0] in LOCAL:
        raise ConfigKeyRefused(f"{key}: set on the device itself", code="config_key_local")
    new = copy.deepcopy(body)
    node: Any = new
    if parts[0] == "door" and len(parts) > 2:
        node = next((d for d in new.get("doors", []) if d.get("id") == parts[1]), None)
        if node is None:
            raise ConfigKeyRefused(f"no door {parts[1]!r} in the config", code="door_unknown")
        parts = parts[2:]
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigKeyRefused(f"{key}: {part} is not a section")
    node[parts[-1]] = _value(raw.strip())
    return new
