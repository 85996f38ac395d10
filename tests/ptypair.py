"""Pseudo-terminal pairs standing in for USB-serial devices (scanners, printers)."""

import os
import tty


def pty_pair(link):
    """A raw pty; `link` (a symlink) names its device end, as socat's link= would."""
    controller, device = os.openpty()
    tty.setraw(controller)
    tty.setraw(device)
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.ttyname(device), link)
    return controller, device


def close_quietly(*fds: int) -> None:
    """Close file descriptors that may already be closed."""
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
