"""A mosquitto broker of our own: config, per-account credentials and ACLs, and its process.

Used by `make demo`, the tests and the benchmarks; production brokers get the same files.

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

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge_common import topics

PLUGIN_DIRS = ("/usr/lib/*-linux-gnu", "/usr/lib", "/usr/local/lib", "/usr/lib/mosquitto")
CONTROL = "$CONTROL/dynamic-security/v1"
ADMIN = "broker-admin"
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
    defaults refuse every other publication, subscription and delivery."""
    dev = account.username
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


def _commands(old: dict[str, Account], new: dict[str, Account]) -> list[dict[str, Any]]:
    """Plugin commands that turn the accounts `old` into `new` (a changed account is deleted,
    which disconnects it, and created again)."""
    cmds: list[dict[str, Any]] = []
    for name, a in old.items():
        if new.get(name) != a:
            cmds.append({"command": "deleteClient", "username": name})
            if not a.service:
                cmds.append({"command": "deleteRole", "rolename": _role_of(a)})
    for name, a in new.items():
        if old.get(name) != a:
            if not a.service:
                cmds.append({"command": "createRole", **device_role(a)})
            cmds.append({"command": "createClient", "username": name, "password": a.password,
                         "roles": [{"rolename": _role_of(a)}]})
    return cmds


@dataclass
class Broker:
    """Files and process of one mosquitto instance listening on 127.0.0.1:`port`."""

    root: Path
    port: int = field(default_factory=free_port)
    accounts: dict[str, Account] = field(default_factory=dict)
    max_queued: int = 1_000_000
    proc: subprocess.Popen | None = None
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    _applied: dict[str, Account] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, account: Account) -> Account:
        """Add or replace a user; call `reload()` to make it effective."""
        if account.username == ADMIN:
            raise ValueError(f"{ADMIN} is the broker's own account")
        if not account.username or set(account.username) & set("/+#"):
            raise ValueError(f"{account.username!r} cannot name a topic level")
        self.accounts[account.username] = account
        return account

    def remove(self, username: str) -> None:
        """Revoke a user; `reload()` disconnects it and refuses it from then on."""
        self.accounts.pop(username, None)

    def write(self) -> Path:
        """Write mosquitto.conf and the dynamic-security file under `root`."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "data").mkdir(exist_ok=True)
        dynsec = self.root / "dynamic-security.json"
        dynsec.unlink(missing_ok=True)  # created anew, readable by its owner only
        with open(os.open(dynsec, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            json.dump(dynsec_config(list(self.accounts.values()), self.admin_password), f,
                      indent=1)
        self._applied = {n: replace(a) for n, a in self.accounts.items()}
        conf = self.root / "mosquitto.conf"
        conf.write_text(
            f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous false\n"
            f"plugin {plugin_path()}\n"
            f"plugin_opt_config_file {dynsec}\n"
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

    def reload(self, timeout: float = 10.0) -> None:
        """Make the accounts effective: through the plugin's control topic while mosquitto
        runs (it rereads nothing on SIGHUP), else in the files it will start from. A removed
        or changed account is disconnected at once."""
        with self._lock:
            if not (self.proc and self.proc.poll() is None):
                self.write()
                return
            cmds = _commands(self._applied, self.accounts)
            if cmds:
                self._control(cmds, timeout)
            self._applied = {n: replace(a) for n, a in self.accounts.items()}

    def _control(self, commands: list[dict[str, Any]], timeout: float) -> None:
        """Send plugin commands as the admin and wait for every answer; raise on an error."""
        payload = json.dumps({"commands": commands})
        replies: list[dict[str, Any]] = []
        refused: list[str] = []

        def connected(client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags,
                      reason_code: ReasonCode, properties: Properties | None) -> None:
            if reason_code.is_failure:
                refused.append(str(reason_code))
            else:
                client.subscribe(f"{CONTROL}/response", qos=1)

        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=ADMIN,
                        protocol=mqtt.MQTTv5)
        c.username_pw_set(ADMIN, self.admin_password)
        c.on_connect = connected
        c.on_subscribe = lambda client, *_: client.publish(CONTROL, payload, qos=1)
        c.on_message = lambda client, _, msg: replies.extend(
            json.loads(msg.payload).get("responses", []))
        c.connect("127.0.0.1", self.port)
        deadline = time.monotonic() + timeout
        try:
            while len(replies) < len(commands) and not refused:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"broker did not answer {len(commands)} commands")
                c.loop(timeout=0.1)
        finally:
            c.disconnect()
        if refused:
            raise RuntimeError(f"broker refused its admin account: {refused[0]}")
        errors = [r for r in replies if r.get("error")]
        if errors:
            raise RuntimeError(f"broker refused account changes: {errors}")

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
