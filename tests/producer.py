"""A device process for crash tests: emits numbered events until its outbox sequence reaches N.

`python -m tests.producer CONFIG.json N` — restarted after kill -9, it continues from the
outbox's own sequence, so central must end with events 1..N exactly once.
"""

import json
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

import msgspec

from edge_common.config import DeviceSection, MqttConfig, OutboxConfig
from edge_common.outbox import Priority
from edge_common.protocol.doors import ACCESS_DECISION, AccessDecision
from edge_common.runtime import DeviceRuntime


class Progress(NamedTuple):
    """How far a producer got, read from its outbox file: last committed seq, rows unacked."""

    seq: int
    depth: int


def progress(data_dir: str | Path) -> Progress:
    """The outbox's last committed sequence number and its unacked rows ((0, 0) before the
    producer has created its outbox)."""
    path = Path(data_dir) / "outbox.db"
    if not path.exists():
        return Progress(0, 0)
    try:
        with closing(sqlite3.connect(path)) as db:
            row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
            depth = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    except sqlite3.OperationalError:  # the producer is still creating its schema
        return Progress(0, 0)
    return Progress(row[0] if row else 0, depth)


def main(config_path: str, total: int) -> None:
    """Run until every event up to `total` is committed and acknowledged."""
    raw = json.load(open(config_path))
    rt = DeviceRuntime(msgspec.convert(raw["device"], DeviceSection),
                       msgspec.convert(raw["mqtt"], MqttConfig),
                       msgspec.convert(raw["outbox"], OutboxConfig), version="producer")
    rt.start()
    body = AccessDecision(door="d", card="a" * 64, result="granted")
    nxt = progress(rt.device.data_dir).seq + 1
    while nxt <= total:
        batch = min(20, total - nxt + 1)
        rt.emit_many([(ACCESS_DECISION, body, Priority.KEEP)] * batch)
        nxt += batch
        time.sleep(0.002)  # pacing: a busy door, not a tight loop
    while rt.health().outbox_depth:
        time.sleep(0.05)
    rt.stop()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
