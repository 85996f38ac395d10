"""A device process for crash tests: emits numbered events until its outbox sequence reaches N.

`python -m tests.producer CONFIG.json N` — restarted after kill -9, it continues from the
outbox's own sequence, so central must end with events 1..N exactly once.
"""

import json
import sys
import time

import msgspec

from edge_common.config import DeviceSection, MqttConfig, OutboxConfig
from edge_common.outbox import Priority
from edge_common.runtime import DeviceRuntime


def main(config_path: str, total: int) -> None:
    """Run until every event up to `total` is committed and acknowledged."""
    raw = json.load(open(config_path))
    rt = DeviceRuntime(msgspec.convert(raw["device"], DeviceSection),
                       msgspec.convert(raw["mqtt"], MqttConfig),
                       msgspec.convert(raw["outbox"], OutboxConfig), version="producer")
    rt.start()
    body = {"door": "d", "card": "a" * 64, "result": "granted"}
    while (nxt := rt.outbox._next_seq) <= total:
        batch = min(20, total - nxt + 1)
        rt.emit_many([("access.decision", body, Priority.KEEP)] * batch)
        time.sleep(0.002)
    while rt.outbox.depth:
        time.sleep(0.05)
    rt.stop()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
