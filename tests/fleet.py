"""Provisioning for tests: a CA, a TLS + dynsec broker, the HTTPS enrolment endpoint and
central, and lockd devices that join by enrolment (`central.provision_stack`, as the demo does)."""

import ssl
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
from gpiozero.pins.mock import MockFactory

from central.circulation import branches
from central.circulation.store import Store
from central.provision_stack import Stack
from central.service import CentralService
from central.store import open_store
from edge_common.config import load
from lockd.config import LockdConfig
from lockd.daemon import LockDaemon
from provisioning.enrol import Enrolled, enrol
from tests.harness import central_config, wait_for
from tests.test_circ_cli import run

SITE = "main"


def door_config(root: Path, door: str = "wc") -> dict:
    """A device config as staff keep it at central: one toilet door with a simulated reader."""
    return {"doors": [{"id": door, "kind": "toilet", "relay_pin": 17, "unlock_seconds": 0.5,
                       "reader": {"kind": "sim", "socket": str(root / f"{door}.sock")}}],
            "gpio": {"pin_factory": "mock"}}


class Fleet:
    """Everything central runs for provisioning, started, plus helpers to enrol devices."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db_path = root / "central.db"
        self.db = open_store(str(self.db_path))
        self.stack = Stack(root, self.db_path)
        self.central: CentralService | None = None
        self.devices: list[LockDaemon] = []
        self.stack.start()

    @property
    def broker(self):
        """The stack's broker."""
        return self.stack.broker

    def start_central(self) -> CentralService:
        """Central's worker on the broker's loopback listener."""
        self.central = CentralService(central_config(self.broker, self.db_path))
        self.central.start()
        wait_for(lambda: self.central.link.connected, what="central connected")
        return self.central

    def admin(self, *args: str, ok: bool = True) -> str:
        """`libedge admin ARGS` on this central as its administrator `boss` (made on first use,
        with the branch)."""
        s = Store(self.db)
        if not s.scalar("SELECT 1 FROM staff WHERE id = 'boss'"):
            branches.add_branch(s, SITE, "Main", "Europe/Ljubljana")
            branches.add_staff(s, "boss", "boss", "admin", [])
        return run(self.db_path, *args, ok=ok)

    def enrol(self, dev: str, site: str = SITE) -> Enrolled:
        """Invite a lock and redeem the invitation over HTTPS, as the device would."""
        ticket = self.stack.invite(self.db, dev, site, "lockd", door_config(self.root / dev))
        return enrol(ticket, self.root / dev / "etc")

    def lock(self, enrolled: Enrolled) -> LockDaemon:
        """Start lockd from the config enrolment wrote."""
        daemon = LockDaemon(load(enrolled.config, LockdConfig), MockFactory())
        self.devices.append(daemon)
        daemon.start()
        return daemon

    def close(self) -> None:
        """Stop the devices, central, the endpoint and the broker."""
        try:
            for d in self.devices:
                d.stop()
            if self.central:
                self.central.stop()
        finally:
            self.stack.stop()
            self.db.close()


class TlsProbe:
    """A bare paho client over the broker's TLS listener that records CONNACK, SUBACK and
    PUBACK reason codes and disconnections."""

    def __init__(self, fleet: Fleet, user: str, password: str) -> None:
        self.connack: int | None = None
        self.suback: dict[int, int] = {}
        self.puback: dict[int, int] = {}
        self.closed = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=user, protocol=mqtt.MQTTv5)
        c.username_pw_set(user, password)
        c.tls_set(ca_certs=str(fleet.stack.ca.ca_cert), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        c.on_connect = lambda cl, u, f, rc, p: setattr(self, "connack", rc.value)
        c.on_disconnect = lambda *a: self.closed.set()
        c.on_subscribe = lambda cl, u, mid, codes, p: self.suback.__setitem__(mid, codes[0].value)
        c.on_publish = lambda cl, u, mid, rc, p: self.puback.__setitem__(mid, rc.value)
        self.client = c
        c.connect("127.0.0.1", fleet.broker.tls_port)
        c.loop_start()
        wait_for(lambda: self.connack is not None or self.closed.is_set(), what="CONNACK")

    def subscribe(self, topic: str) -> int:
        """SUBACK reason code of one filter."""
        mid = self.client.subscribe(topic, qos=1)[1]
        wait_for(lambda: mid in self.suback, what="SUBACK")
        return self.suback[mid]

    def publish(self, topic: str) -> int:
        """PUBACK reason code of one QoS 1 message."""
        mid = self.client.publish(topic, b"{}", qos=1).mid
        wait_for(lambda: mid in self.puback, what="PUBACK")
        return self.puback[mid]

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
