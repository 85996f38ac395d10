"""A mosquitto broker of our own: config, per-account credentials and ACLs, and its process.

Used by `make demo`, the tests and the benchmarks; production brokers get the same files
(`deploy/mosquitto-libedge.conf`). Devices connect to its TLS listener, central's workers
and tools to plain MQTT on loopback; `provisioning.dynsec` changes accounts while it runs.
With a TLS listener the two listeners share no account (`provisioning.services`); without
one (the backbone's tests and benchmarks) the loopback listener serves everyone.

Accounts and their ACLs live in mosquitto's dynamic-security plugin, not in a password file
and `acl_file`: mosquitto 2.0's `acl_file` check grants every SUBSCRIBE (it checks only
PUBLISH and, per message, delivery), so a device could subscribe to `#` or join central's
`$share/central/…` group, where the broker hands it its turn of the messages and then drops
them because it may not read them. The plugin checks each subscription's whole filter,
`$share/{group}/` prefix included, against the account's `subscribePattern` ACLs (the filter
must lie within one of them) and refuses the rest with SUBACK 0x87. Its ACLs take no `%u`
in 2.0, so each device gets a role of its own naming its topics.
"""

import base64
import glob
import hashlib
import json
import os
import pwd
import secrets
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from edge_common import ids, topics
from edge_common.files import write_private
from provisioning import services
from provisioning.ca import CaFiles
from provisioning.dynsec import ADMIN, CONTROL, Dynsec

PLUGIN_DIRS = ("/usr/lib/*-linux-gnu", "/usr/lib", "/usr/local/lib", "/usr/lib/mosquitto")
SERVICE_ROLE = "service"


def plugin_path() -> str:
    """Where mosquitto's dynamic-security plugin is (Debian: /usr/lib/<arch>-linux-gnu)."""
    for pattern in PLUGIN_DIRS:
        for found in sorted(glob.glob(f"{pattern}/mosquitto_dynamic_security.so")):
            return found
    raise FileNotFoundError("mosquitto_dynamic_security.so not found: install mosquitto 2.0")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def password_hash(password: str, salt: bytes | None = None,
                  iterations: int = 101) -> dict[str, Any]:
    """A dynamic-security client's `password`, `salt` and `iterations` (PBKDF2-SHA512)."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return {"password": b64(digest).decode(), "salt": b64(salt).decode(),
            "iterations": iterations}


@dataclass
class Account:
    """A broker user: a device confined to its own topics and its site's sync, or a service."""

    username: str
    password: str
    site: str | None = None
    service: bool = False


def _acl(acltype: str, topic: str) -> dict[str, Any]:
    return {"acltype": acltype, "topic": topic, "allow": True}


def _readable(acls: list[dict[str, Any]], topic_filter: str) -> None:
    """Let a role subscribe to `topic_filter` (or any filter within it) and receive from it."""
    acls += [_acl("subscribePattern", topic_filter), _acl("publishClientReceive", topic_filter)]


def device_role(account: Account) -> dict[str, Any]:
    """A device's own role: publish on its evt, req and status; subscribe to and receive its
    ack, res, cmd and status, its site's sync and central's status. Nothing else: the
    defaults refuse every other publication, subscription and delivery. A name or site off
    the id pattern, or a service account's name, is refused (IdRefused) before any topic or
    role is made of it."""
    dev = ids.device(account.username)
    if account.site is not None:
        ids.site(account.site)
    acls = [_acl("publishClientSend", topics.device(dev, c)) for c in topics.DEVICE_SENDS]
    for c in topics.DEVICE_READS:
        _readable(acls, topics.device(dev, c))
    if account.site:
        _readable(acls, topics.sync(account.site, "#"))
    _readable(acls, topics.CENTRAL_STATUS_ALL)
    return {"rolename": _role_of(account), "acls": acls}


def service_role() -> dict[str, Any]:
    """Central's workers and tools: all of `lib/v1`, and shared subscriptions on it."""
    everything = f"{topics.ROOT}/#"
    acls = [_acl("publishClientSend", everything),
            _acl("subscribePattern", topics.shared("+", everything))]
    _readable(acls, everything)
    return {"rolename": SERVICE_ROLE, "acls": acls}


def admin_role() -> dict[str, Any]:
    """The broker's own admin: the plugin's control topics only."""
    acls = [_acl("publishClientSend", CONTROL)]
    _readable(acls, f"{CONTROL}/response")
    return {"rolename": ADMIN, "acls": acls}


def _role_of(account: Account) -> str:
    return SERVICE_ROLE if account.service else f"device:{account.username}"


def _client(account: Account) -> dict[str, Any]:
    return {"username": account.username, **password_hash(account.password),
            "roles": [{"rolename": _role_of(account)}]}


def dynsec_config(accounts: list[Account], admin_password: str) -> dict[str, Any]:
    """The plugin's whole state: every account with its role, and deny by default (the
    plugin never grants `$CONTROL` by default, whatever the defaults say)."""
    devices = [device_role(a) for a in accounts if not a.service]
    admin = {"username": ADMIN, **password_hash(admin_password), "roles": [{"rolename": ADMIN}]}
    return {
        "clients": [admin] + [_client(a) for a in accounts],
        "roles": [admin_role(), service_role()] + devices,
        "defaultACLAccess": {"publishClientSend": False, "publishClientReceive": False,
                             "subscribe": False, "unsubscribe": True},
    }


def remove_commands(account: Account) -> list[dict[str, Any]]:
    """Plugin commands that delete an account (disconnecting it) and its own role."""
    cmds: list[dict[str, Any]] = [{"command": "deleteClient", "username": account.username}]
    if not account.service:
        cmds.append({"command": "deleteRole", "rolename": _role_of(account)})
    return cmds


def create_commands(account: Account) -> list[dict[str, Any]]:
    """Plugin commands that create an account with its role (a device's own role first)."""
    cmds: list[dict[str, Any]] = [] if account.service else [
        {"command": "createRole", **device_role(account)}]
    cmds.append({"command": "createClient", "username": account.username,
                 "password": account.password, "roles": [{"rolename": _role_of(account)}]})
    return cmds


def _commands(old: dict[str, Account], new: dict[str, Account]) -> list[dict[str, Any]]:
    """Plugin commands that turn the accounts `old` into `new` (a changed account is deleted,
    which disconnects it, and created again)."""
    cmds: list[dict[str, Any]] = []
    for name, a in old.items():
        if new.get(name) != a:
            cmds += remove_commands(a)
    for name, a in new.items():
        if old.get(name) != a:
            cmds += create_commands(a)
    return cmds


def _services(accounts: dict[str, Account]) -> dict[str, Account]:
    return {n: a for n, a in accounts.items() if a.service}


@dataclass
class Broker:
    """Files and process of one mosquitto instance: plain MQTT on 127.0.0.1:`port` (central,
    tools), and with `tls` a TLS listener for devices on `tls_host`:`tls_port`."""

    root: Path
    port: int = field(default_factory=free_port)
    tls: CaFiles | None = None
    tls_port: int = field(default_factory=free_port)
    tls_host: str = "127.0.0.1"
    accounts: dict[str, Account] = field(default_factory=dict)
    max_queued: int = 1_000_000
    proc: subprocess.Popen | None = None
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    _applied: dict[str, Account] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, account: Account) -> Account:
        """Add or replace a user; call `reload()` to make it effective."""
        if account.username == ADMIN:
            raise ids.IdRefused(f"{ADMIN} is the broker's own account", code="id_reserved")
        if not account.username or set(account.username) & set("/+#$"):
            raise ids.IdRefused(f"{account.username!r} cannot name a topic level")
        if not account.service:
            device_role(account)
            if self.accounts.get(account.username, account).service:
                raise ids.IdRefused(f"{account.username} is a service account",
                                    code="id_reserved")
        self.accounts[account.username] = account
        return account

    def remove(self, username: str) -> None:
        """Revoke a user; `reload()` disconnects it and refuses it from then on."""
        self.accounts.pop(username, None)

    def dynsec(self, timeout: float = 60.0) -> Dynsec:
        """The plugin's admin client for this broker (over the TLS listener, where the plugin
        is, when there is one; else over the loopback listener)."""
        if self.tls is None:
            return Dynsec(self.port, self.admin_password, timeout=timeout)
        return Dynsec(self.tls_port, self.admin_password, host=self.tls_host,
                      ca_file=str(self.tls.ca_cert), timeout=timeout)

    def _in_plugin(self, accounts: dict[str, Account]) -> dict[str, Account]:
        """The accounts the plugin holds: all, or with a TLS listener the devices only."""
        return {n: a for n, a in accounts.items() if self.tls is None or not a.service}

    def _write_services(self) -> str:
        """With a TLS listener: the loopback listener's own accounts and its config block."""
        if self.tls is None:
            return f"listener {self.port} 127.0.0.1\n{services.CLIENT_ID}"
        lines = [services.password_line(a.username, password_hash(a.password))
                 for a in self.accounts.values() if a.service]
        return services.listener(self.port, *services.write(self.root, lines))

    def write(self, keep_accounts: bool = False) -> Path:
        """Write mosquitto.conf and the dynamic-security file under `root` (`keep_accounts`:
        keep the file the plugin saved, with every account changed live)."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "data").mkdir(exist_ok=True)
        dynsec = self.root / "dynamic-security.json"
        if not (keep_accounts and dynsec.exists()):
            write_private(dynsec, json.dumps(dynsec_config(
                list(self._in_plugin(self.accounts).values()), self.admin_password), indent=1))
            self._applied = {n: replace(a) for n, a in self.accounts.items()}
        conf = self.root / "mosquitto.conf"
        conf.write_text(
            f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
            f"per_listener_settings {'false' if self.tls is None else 'true'}\n"
            + self._write_services() + self._tls_listener() +
            "allow_anonymous false\n"
            f"plugin {plugin_path()}\n"
            f"plugin_opt_config_file {dynsec}\n"
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

    def _tls_listener(self) -> str:
        if self.tls is None:
            return ""
        return (f"listener {self.tls_port} {self.tls_host}\n{services.CLIENT_ID}"
                f"cafile {self.tls.ca_cert}\ncertfile {self.tls.server_cert}\n"
                f"keyfile {self.tls.server_key}\ntls_version tlsv1.2\n")

    def start(self, timeout: float = 60.0, keep_accounts: bool = False) -> None:
        """Start mosquitto and wait until it accepts connections (`keep_accounts`: as the
        plugin last saved them, e.g. after a restart)."""
        conf = self.write(keep_accounts)
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

    def reload(self, timeout: float = 60.0) -> None:
        """Make the accounts effective: through the plugin's control topic while mosquitto
        runs (it rereads nothing on SIGHUP), else in the files it will start from. A removed
        or changed account is disconnected at once."""
        with self._lock:
            if not (self.proc and self.proc.poll() is None):
                self.write()
                return
            self.dynsec(timeout).run(_commands(self._in_plugin(self._applied),
                                               self._in_plugin(self.accounts)))
            old, new = _services(self._applied), _services(self.accounts)
            if self.tls is not None and old != new:
                self._reload_services([a for n, a in new.items() if old.get(n) != a], timeout)
            self._applied = {n: replace(a) for n, a in self.accounts.items()}

    def _reload_services(self, added: list[Account], timeout: float) -> None:
        """Rewrite the loopback listener's files, have mosquitto reread them (SIGHUP), and
        wait until each added service account logs in."""
        self._write_services()
        if self.proc:
            self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        for a in added:
            while services.connack(self.port, a.username, a.password) != 0:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mosquitto did not take service account {a.username}")

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
