"""Files that hold secrets: written whole, atomically, readable by their owner only (0600)."""

import os
from pathlib import Path


def write_private(path: Path, data: str | bytes) -> Path:
    """Write `data` to `path` with mode 0600 from the first byte on, replacing any old file
    only once the new one is complete (a crash leaves the old one or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    tmp.unlink(missing_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "wb") as f:
        f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path
