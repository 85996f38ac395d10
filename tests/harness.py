"""Building blocks for tests that run central and devices against a real private mosquitto."""

import os
import queue
import socket
import ssl
import time
from pathlib import Path

from central import fleet
from central.circulation import sites
from central.config import CentralConfig, CentralSection
from central.database import is_url
from central.service import CentralService
from central.store import open_store
from edge_common.config import DeviceSection, MqttConfig, OutboxConfig
from edge_common.link import MqttLink
from edge_common.runtime import DeviceRuntime
from provisioning.broker import Account, Broker

# How long a test waits for an event before it calls it lost. Waiting costs nothing when the
# event comes, so the bound is generous: a cold clone on a machine busy with other work takes
# many times longer than a quiet one, and a bound near the quiet figure makes a flaky test.
PATIENCE = float(os.environ.get("LIBEDGE_TEST_PATIENCE", "120"))


def wait_for(predicate, timeout: float = PATIENCE, interval: float = 0.01,
             what: str = "condition"):
    """Poll until `predicate()` is truthy; fail the test with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def central_config(broker: Broker, db: Path | str, worker: str = "central-1",
                   **kw) -> CentralConfig:
    """A central config for a worker account on the test broker, on a SQLite file or a
    PostgreSQL URL."""
    if worker not in broker.accounts:
        broker.add(Account(worker, f"{worker}-pw", service=True))
        broker.reload()
    return CentralConfig(
        central=CentralSection(**{"database" if is_url(str(db)) else "db": str(db)},
                               worker=worker, **kw),
        mqtt=MqttConfig(port=broker.port, username=worker, password=f"{worker}-pw",
                        reconnect_min=0.1, reconnect_max=1.0),
    )


def device_parts(broker: Broker, root: Path, dev: str, site: str, kind: str, card_key: str,
                 port: int | None = None, command_key: str | None = None,
                 request_timeout: float = 5.0, **outbox):
    """Broker account plus (DeviceSection, MqttConfig, OutboxConfig) for a test device."""
    if dev not in broker.accounts:
        broker.add(Account(dev, f"{dev}-pw", site=site))
        broker.reload()
    return (
        DeviceSection(id=dev, site=site, kind=kind, data_dir=str(root / dev), card_key=card_key,
                      command_key=command_key, request_timeout=request_timeout),
        MqttConfig(port=port or broker.port, username=dev, password=f"{dev}-pw",
                   reconnect_min=0.1, reconnect_max=1.0),
        OutboxConfig(**outbox),
    )


class Network:
    """A broker, a central store and helpers to add devices: the whole backbone in one object."""

    def __init__(self, root: Path, site: str = "main", store: str = ""):
        self.root = root
        self.site = site
        self.broker = Broker(root / "broker")
        self.broker.start()
        self.db_path = root / "central.db"
        self.store = store or str(self.db_path)    # a SQLite file, or a PostgreSQL URL
        self.db = open_store(self.store, init=True)
        self.card_key = sites.open_site(self.db, site)
        self.central: CentralService | None = None

    def start_central(self, **kw) -> CentralService:
        """Start a central worker in this process."""
        self.central = CentralService(central_config(self.broker, self.store, **kw))
        self.central.start()
        wait_for(lambda: self.central.link.connected, what="central connected")
        return self.central

    def device(self, dev: str, kind: str = "lockd", datasets=(), port=None,
               request_timeout: float = 5.0, **outbox):
        """Enrol a device and return its (unstarted) runtime."""
        key = fleet.enrol(self.db, dev, self.site, kind)
        parts = device_parts(self.broker, self.root, dev, self.site, kind, self.card_key,
                             port=port, command_key=key, request_timeout=request_timeout,
                             **outbox)
        return DeviceRuntime(*parts, version="test", datasets=datasets)

    def close(self) -> None:
        """Stop central and the broker."""
        if self.central:
            self.central.stop()
        self.broker.stop()
        self.db.close()


def write_central_toml(broker: Broker, db: Path | str, path: Path,
                       worker: str = "central-1") -> Path:
    """A central config file, for running central as its own process (on a SQLite file or a
    PostgreSQL URL)."""
    cfg = central_config(broker, db, worker)
    path.write_text(
        f'[central]\n{"database" if is_url(str(db)) else "db"} = "{db}"\nworker = "{worker}"\n\n'
        f'[mqtt]\nport = {broker.port}\n'
        f'username = "{worker}"\npassword = "{cfg.mqtt.password}"\nreconnect_min = 0.1\n'
        'reconnect_max = 1.0\n')
    return path


def device_json(broker: Broker, root: Path, dev: str, site: str, card_key: str,
                **outbox) -> Path:
    """A device's config as JSON, for the producer process."""
    import json

    import msgspec

    parts = device_parts(broker, root, dev, site, "lockd", card_key, **outbox)
    path = root / f"{dev}.json"
    path.write_text(json.dumps({k: msgspec.to_builtins(v) for k, v in
                                zip(("device", "mqtt", "outbox"), parts, strict=True)}))
    return path


def seqs(db, dev: str) -> list[int]:
    """The sequence numbers of a device's access events at central, in order."""
    return [r[0] for r in db.execute(
        "SELECT seq FROM access_log WHERE dev = ? ORDER BY seq", [dev])]


def mqtt_client(net: "Network", user: str, subs=(), *, service: bool = False,
                on_state=lambda up: None) -> MqttLink:
    """A started plain MQTT link with its own broker account (a service account: may read and
    write every device's topics); what it receives lands in `.inbox`."""
    account = net.broker.accounts.get(user) or net.broker.add(
        Account(user, f"{user}-pw", site=None if service else net.site, service=service))
    net.broker.reload()
    inbox: queue.Queue = queue.Queue()
    link = MqttLink(user, MqttConfig(port=net.broker.port, username=user,
                                     password=account.password, reconnect_min=0.1,
                                     reconnect_max=0.5),
                    subscriptions=list(subs), on_message=inbox.put, on_state=on_state)
    link.inbox = inbox  # type: ignore[attr-defined]
    link.start()
    wait_for(lambda: link.connected, what=f"{user} connected")
    return link


def cut_while_trickling(conn: socket.socket, drip: bytes) -> bool:
    """Send `drip` to a server a byte every 0.2 s or so (at most 150 bytes, so it stops by
    itself): whether the server closed the connection meanwhile."""
    conn.settimeout(0.2)
    for byte in drip[:150]:
        try:
            if conn.recv(4096) == b"":
                return True
        except (TimeoutError, ssl.SSLWantReadError):
            pass
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return True
    return False
