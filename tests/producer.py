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

import msgspec

from edge_common.config import DeviceSection, MqttConfig, OutboxConfig
from edge_common.outbox import Priority
from edge_common.protocol.doors import ACCESS_DECISION, AccessDecision
from edge_common.runtime import DeviceRuntime


def last_seq(data_dir: str) -> int:
    """The sequence number of the last event the outbox committed, from its own file."""
    with closing(sqlite3.connect(Path(data_dir) / "outbox.db")) as db:
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
    return row[0] if row else 0


def main(config_path: str, total: int) -> None:
    """Run until every event up to `total` is committed and acknowledged."""
    raw = json.load(open(config_path))
    rt = DeviceRuntime(msgspec.convert(raw["device"], DeviceSection),
                       msgspec.convert(raw["mqtt"], MqttConfig),
                       msgspec.convert(raw["outbox"], OutboxConfig), version="producer")
    rt.start()
    body = AccessDecision(door="d", card="a" * 64, result="granted")
    nxt = last_seq(rt.device.data_dir) + 1
    while nxt <= total:
        batch = min(20, total - nxt + 1)
        rt.emit_many([(ACCESS_DECISION, body, Priority.KEEP)] * batch)
        nxt += batch
        time.sleep(0.002)
    while rt.health().outbox_depth:
        time.sleep(0.05)
    rt.stop()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
