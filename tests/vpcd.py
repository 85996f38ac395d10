"""A private pcscd with vsmartcard's virtual reader, and a virtual contactless card for it."""

import os
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

VPCD_PORT = 0x8C9F
ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")


class Pcscd:
    """pcscd in the foreground with only the virtual reader configured."""

    def __init__(self, root: Path):
        self.root = root
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Start pcscd (one per machine: fail loudly if another runs)."""
        if subprocess.run(["pgrep", "-x", "pcscd"], capture_output=True).returncode == 0:
            raise RuntimeError("another pcscd is running; stop it for the PC/SC tests")
        conf = self.root / "reader.conf.d"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "vpcd").write_text(
            'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x8C9F\n'
            "LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID 0x8C9F\n")
        self.proc = subprocess.Popen([shutil.which("pcscd") or "/usr/sbin/pcscd",
                                      "--foreground", "-c", str(conf)],
                                     stdout=open(self.root / "pcscd.log", "ab"),
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._serving():
                return
            time.sleep(0.1)  # polling pcscd as it starts
        raise RuntimeError(f"pcscd did not list vpcd's reader; see {self.root / 'pcscd.log'}")

    def _serving(self) -> bool:
        """Whether vpcd's port is open and pcscd lists its reader to clients."""
        from smartcard.Exceptions import SmartcardException
        from smartcard.pcsc.PCSCExceptions import BaseSCardException
        from smartcard.System import readers

        try:
            socket.create_connection(("127.0.0.1", VPCD_PORT), timeout=0.2).close()
            return any("Virtual PCD" in str(r) for r in readers())
        except (OSError, SmartcardException, BaseSCardException):
            return False

    def stop(self) -> None:
        """Stop pcscd."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        for leftover in ("/run/pcscd/pcscd.comm", "/run/pcscd/pcscd.pid"):
            if os.path.exists(leftover):
                os.unlink(leftover)


class VirtualCard:
    """A contactless card on the virtual reader: connected = on the reader."""

    def __init__(self, uid: bytes):
        self.uid = uid
        self.sock = socket.create_connection(("127.0.0.1", VPCD_PORT))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(0.05)
        self._buf = b""
        self.powered = 0  # power-ons: a reader polling the card powers it up each time

    def serve(self, seconds: float) -> None:
        """Answer pcscd for a while (power, ATR, APDUs)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                chunk = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return  # taken off the reader: remove() closed the socket under us
            if not chunk:
                return
            self._buf += chunk
            while len(self._buf) >= 2:
                (size,) = struct.unpack(">H", self._buf[:2])
                if len(self._buf) < 2 + size:
                    break
                msg, self._buf = self._buf[2:2 + size], self._buf[2 + size:]
                reply = self._answer(msg)
                if reply is not None:
                    try:
                        self.sock.sendall(struct.pack(">H", len(reply)) + reply)
                    except OSError:
                        return  # taken off mid-answer

    def _answer(self, msg: bytes) -> bytes | None:
        if len(msg) == 1:
            self.powered += msg[0] == 1
            return ATR if msg[0] == 4 else None
        if msg[:2] == b"\xff\xca":
            return self.uid + b"\x90\x00"
        return b"\x6d\x00"

    def remove(self) -> None:
        """Take the card off the reader."""
        self.sock.close()


def reader_empty(name: str) -> bool:
    """Whether pcscd reports no card on the reader whose name contains `name`."""
    from smartcard.Exceptions import CardConnectionException, NoCardException
    from smartcard.System import readers

    conn = next(r for r in readers() if name in str(r)).createConnection()
    try:
        conn.connect()
    except NoCardException:
        return True
    except CardConnectionException:  # a card pcscd still lists, no longer powered
        return False
    finally:
        conn.release()
    return False
