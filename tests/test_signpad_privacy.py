"""Nothing of a form stays in the pad's files once central has acknowledged it: the outbox
zeroes deleted rows and empties its write-ahead log at each ack (secure_delete)."""

from pathlib import Path

import pytest

from edge_common.config import OutboxConfig
from edge_common.outbox import Outbox

SECRET = "Žiga Čečović-Kővári 2013-05-17"


def files_holding(folder: Path, *needles: bytes) -> list[str]:
    """Every file under `folder` that holds any of `needles`, as path: needle."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.name}: {n!r}" for n in needles if n in data]
    return found


@pytest.mark.parametrize("secure", [True, False], ids=["secure_delete", "plain"])
def test_an_acked_event_leaves_no_bytes_in_any_file_only_with_secure_delete(tmp_path, secure):
    box = Outbox(str(tmp_path / "outbox.db"), "pad-1", OutboxConfig(secure_delete=secure))
    try:
        needle = SECRET.encode()
        bulky = "x" * 200_000  # overflow pages too, as a form's PDF fills them
        first = box.add("form.signed", {"name": SECRET, "pdf": bulky})
        box.add("form.correction", {"field": "name"})
        assert files_holding(tmp_path, needle)  # the scan finds it while it waits
        box.acked([first.id])
        assert box.depth == 1
        left = files_holding(tmp_path, needle)
        assert (left == []) if secure else left  # plain SQLite keeps deleted bytes around
    finally:
        box.close()
    if secure:
        assert files_holding(tmp_path, SECRET.encode()) == []
