"""Unix socket paths of any length: the kernel takes at most 107 bytes, and a demo's folder deep
in a home directory (or a test's temporary folder) can be longer. A longer path is reached
through a descriptor of its folder, `/proc/self/fd/N/name`, which names the same file."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

LONGEST = 107   # bytes of sun_path, less the closing NUL


@contextmanager
def reachable(path: str) -> Iterator[str]:
    """What to give bind, connect or sendto for `path`: itself when it is short enough, else the
    same file through its folder's descriptor (open while the block runs)."""
    if len(os.fsencode(path)) <= LONGEST:
        yield path
        return
    folder = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{folder}/{os.path.basename(path)}"
    finally:
        os.close(folder)
