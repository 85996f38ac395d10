"""A Type 2 (MIFARE Ultralight-like) card emulated over nfcpy's udp driver, for reader tests."""

import socket
import threading
import time

import nfc
import nfc.clf


class Type2Card:
    """Presents a 7-byte UID on `udp:127.0.0.1:port` and answers READ from a 64-byte image."""

    def __init__(self, port: int, uid: bytes):
        self.port, self.uid = port, uid
        self.image = bytearray(64)
        self.image[0:3], self.image[4:8] = uid[0:3], uid[3:7]
        self.commands = 0  # commands the reader sent it: reads, presence checks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def present(self) -> "Type2Card":
        """Put the card on the reader."""
        self._thread.start()
        return self

    def remove(self) -> None:
        """Take it away."""
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        clf = nfc.ContactlessFrontend(f"udp:127.0.0.1:{self.port}")
        try:
            while not self._stop.is_set():
                target = clf.listen(nfc.clf.LocalTarget(
                    "106A", sens_res=b"\x44\x00", sdd_res=self.uid, sel_res=b"\x00"), 5.0)
                cmd = target.tt2_cmd if target else None
                while cmd is not None and not self._stop.is_set():
                    self.commands += 1
                    page = cmd[1] * 4 if cmd[0] == 0x30 and len(cmd) > 1 else None
                    rsp = bytes((self.image * 2)[page:page + 16]) if page is not None else b"\x00"
                    try:
                        cmd = clf.exchange(rsp, 0.5)
                    except nfc.clf.CommunicationError:
                        break
        finally:
            clf.close()


def wait_until_polled_for_a_card(port: int, timeout: float = 30.0) -> None:
    """Wait until the reader on `udp:127.0.0.1:port` senses for a new card (SENS_REQ), which it
    does only once it found the last one gone: a card put down before would get the presence
    checks meant for the old one."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("0.0.0.0", port))  # where a card listens, as nfcpy's udp driver binds
        while time.monotonic() < deadline:
            probe.settimeout(deadline - time.monotonic())
            if probe.recv(1024).startswith(b"106A 26"):
                return
    raise AssertionError(f"the reader did not poll for a new card within {timeout} s")
