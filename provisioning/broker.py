"""A mosquitto broker of our own: config, per-device passwords and ACL, and its process.

Used by `make demo`, the tests and the benchmarks; production brokers get the same files.
"""

import base64
import hashlib
import os
import pwd
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DEVICE_ACL = """\
pattern write lib/v1/dev/%u/evt
pattern write lib/v1/dev/%u/req
pattern readwrite lib/v1/dev/%u/status
pattern read lib/v1/dev/%u/ack
pattern read lib/v1/dev/%u/res
pattern read lib/v1/dev/%u/cmd
pattern read lib/v1/central/+/status
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def password_hash(password: str, salt: bytes | None = None, iterations: int = 101) -> str:
    """A mosquitto 2 `$7$` (PBKDF2-SHA512) password-file hash."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(digest).decode()}"


@dataclass
class Account:
    """A broker user: a device confined to its own topics and its site's sync, or a service."""

    username: str
    password: str
    site: str | None = None
    service: bool = False


@dataclass
class Broker:
    """Files and process of one mosquitto instance listening on 127.0.0.1:`port`."""

    root: Path
    port: int = field(default_factory=free_port)
    accounts: dict[str, Account] = field(default_factory=dict)
    max_queued: int = 1_000_000
    proc: subprocess.Popen | None = None

    def add(self, account: Account) -> Account:
        """Add or replace a user; call `write()` and `reload()` to make it effective."""
        self.accounts[account.username] = account
        return account

    def remove(self, username: str) -> None:
        """Revoke a user; effective after `write()` and `reload()`."""
        self.accounts.pop(username, None)

    def write(self) -> Path:
        """Write mosquitto.conf, the password file and the ACL under `root`."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "data").mkdir(exist_ok=True)
        pw = self.root / "passwd"
        pw.write_text("".join(
            f"{a.username}:{password_hash(a.password)}\n" for a in self.accounts.values()
        ))
        acl = [DEVICE_ACL]
        for a in self.accounts.values():
            acl.append(f"\nuser {a.username}\n")
            if a.service:
                acl.append("topic readwrite lib/v1/#\n")
            elif a.site:
                acl.append(f"topic read lib/v1/site/{a.site}/sync/#\n")
        (self.root / "acl").write_text("".join(acl))
        for f in (pw, self.root / "acl"):
            os.chmod(f, 0o600)
        conf = self.root / "mosquitto.conf"
        conf.write_text(
            f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous false\n"
            f"password_file {pw}\n"
            f"acl_file {self.root / 'acl'}\n"
            "use_username_as_clientid true\n"
            "persistence true\n"
            f"persistence_location {self.root / 'data'}/\n"
            "autosave_interval 5\n"
            "set_tcp_nodelay true\n"
            f"max_queued_messages {self.max_queued}\n"
            "max_inflight_messages 1000\n"
            "max_packet_size 2000000\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
        )
        return conf

    def start(self, timeout: float = 10.0) -> None:
        """Start mosquitto and wait until it accepts connections."""
        conf = self.write()
        log = open(self.root / "mosquitto.log", "ab")
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: see {self.root / 'mosquitto.log'}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout}s")

    def reload(self) -> None:
        """Rewrite the files and make mosquitto reread users and ACL (SIGHUP)."""
        self.write()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the broker (SIGTERM saves persistence; SIGKILL loses queues)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """kill -9 the broker, as a power cut would."""
        self.stop(signal.SIGKILL)
