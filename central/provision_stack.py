"""Central's provisioning side on one machine: a CA, a broker with a TLS device listener and
live dynamic security, and the HTTPS enrolment endpoint. The demo, the tests and the
benchmarks all enrol their devices through it."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import tomli_w

from central import enrolment, invitations
from central.database import Database
from central.enrolment_server import EnrolmentServer
from edge_common.files import write_private
from provisioning import ca
from provisioning.broker import Broker, free_port
from provisioning.grant import Ticket
from provisioning.settings import BrokerSection, EnrolmentSection, ProvisionConfig

HOSTS = ["127.0.0.1", "localhost"]


class Stack:
    """A CA under `root/ca` (kept across runs), a broker under `root/broker` and the endpoint,
    with their settings in `root/provision.toml`; nothing runs until `start`."""

    def __init__(self, root: Path, db_path: Path | str) -> None:
        self.root = root
        self.db_path = db_path
        files = ca.CaFiles(root / "ca")
        self.ca = files if files.ca_cert.exists() else ca.init(files.root, HOSTS)
        self.broker = Broker(root / "broker", tls=self.ca)
        secret = write_private(root / "broker-admin.secret", self.broker.admin_password)
        port = free_port()
        self.config = ProvisionConfig(
            ca_dir=str(files.root),
            broker=BrokerSection(admin_password_file=str(secret),
                                 device_port=self.broker.tls_port),
            enrolment=EnrolmentSection(url=f"https://127.0.0.1:{port}", listen="127.0.0.1",
                                       port=port))
        self.settings = root / "provision.toml"
        self.settings.write_text(tomli_w.dumps(msgspec.to_builtins(self.config)))
        self.server: EnrolmentServer | None = None

    def start(self) -> None:
        """Start the broker, then the enrolment endpoint."""
        self.broker.start()
        self.server = EnrolmentServer(str(self.db_path), self.config)
        self.server.start()

    def stop(self) -> None:
        """Stop the endpoint and the broker (safe after a failed or no start)."""
        try:
            if self.server:
                self.server.stop()
                self.server = None
        finally:
            self.broker.stop()

    def invite(self, db: Database, dev: str, site: str, kind: str,
               config: dict[str, Any] | None = None,
               ttl: timedelta = invitations.DEFAULT_TTL) -> Ticket:
        """An invitation for a device, with its config kept at central when given."""
        return enrolment.invite(db, self.config, dev, site, kind, config, ttl)[0]
