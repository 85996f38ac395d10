"""Central's declared configuration."""

from typing import Annotated

import msgspec

from central import rejected
from central.database import is_url
from edge_common.config import MqttConfig, Schema


class CentralSection(Schema, frozen=True):
    """Where the store is (a SQLite file, `db`, or a PostgreSQL database, `database`) and how
    this worker consumes."""

    db: str = ""
    database: str = ""
    # a service account: central-…, a name no device id may take (edge_common.ids)
    worker: Annotated[str, msgspec.Meta(pattern=r"^central-[a-z0-9-]{1,55}$")] = "central-1"
    batch_max: Annotated[int, msgspec.Meta(ge=1, le=5000)] = 1000
    poll_interval: Annotated[float, msgspec.Meta(gt=0, le=10)] = 0.1
    # how many refused events `rejected` keeps: the newest; those dropped are counted
    keep_rejected: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = rejected.KEEP

    def __post_init__(self) -> None:
        if bool(self.db) == bool(self.database):
            raise ValueError("name the store once: db = a SQLite file's path, or database ="
                             " a postgresql:// URL")
        if self.database and not is_url(self.database):
            raise ValueError("database is a postgresql:// URL (a SQLite file is db = ...)")

    @property
    def store(self) -> str:
        """The store's path or URL."""
        return self.database or self.db


class MetricsSection(Schema, frozen=True):
    """Where this worker answers Prometheus scrapes (port 0: it does not)."""

    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    bind: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] = "127.0.0.1"


class CentralConfig(Schema, frozen=True):
    """The whole central config file."""

    central: CentralSection
    mqtt: MqttConfig = MqttConfig()
    metrics: MetricsSection = MetricsSection()
