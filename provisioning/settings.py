"""Central's provisioning settings (`provision.toml`): its CA, how staff tools reach the
broker's admin account, what devices are told about the broker, and the enrolment endpoint."""

from pathlib import Path

from edge_common.config import Port, Schema, load
from edge_common.errors import ConfigError
from provisioning.ca import CaFiles
from provisioning.dynsec import Dynsec


class BrokerSection(Schema, frozen=True):
    """The broker's TLS listener, where devices and the plugin's admin log in (central's
    loopback listener takes central's services alone), and the admin's password."""

    admin_password_file: str
    device_host: str = "127.0.0.1"
    device_port: Port = 8883


class EnrolmentSection(Schema, frozen=True):
    """The HTTPS enrolment endpoint: the address devices use, and where it listens."""

    url: str
    listen: str = "0.0.0.0"
    port: Port = 8443


class ProvisionConfig(Schema, frozen=True):
    """The whole provision.toml."""

    ca_dir: str
    broker: BrokerSection
    enrolment: EnrolmentSection

    def ca(self) -> CaFiles:
        """The CA folder's files."""
        return CaFiles(Path(self.ca_dir))

    def dynsec(self) -> Dynsec:
        """The broker's admin client, over the TLS listener checked against central's CA."""
        path = Path(self.broker.admin_password_file)
        try:
            password = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"admin_password_file {path}: {exc.strerror}") from exc
        return Dynsec(self.broker.device_port, password, host=self.broker.device_host,
                      ca_file=str(self.ca().ca_cert))


def read(path: str | Path) -> ProvisionConfig:
    """Load provision.toml, or raise ConfigError naming the key."""
    return load(path, ProvisionConfig)

