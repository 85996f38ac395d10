"""Central's declared configuration."""

from typing import Annotated

import msgspec

from central import rejected
from edge_common.config import MqttConfig, Schema


class CentralSection(Schema, frozen=True):
    """Where the store is and how this worker consumes."""

    db: str
    # a service account: central-…, a name no device id may take (edge_common.ids)
    worker: Annotated[str, msgspec.Meta(pattern=r"^central-[a-z0-9-]{1,55}$")] = "central-1"
    batch_max: Annotated[int, msgspec.Meta(ge=1, le=5000)] = 1000
    poll_interval: Annotated[float, msgspec.Meta(gt=0, le=10)] = 0.1
    # how many refused events `rejected` keeps: the newest; those dropped are counted
    keep_rejected: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = rejected.KEEP


class MetricsSection(Schema, frozen=True):
    """Where this worker answers Prometheus scrapes (port 0: it does not)."""

    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    bind: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] = "127.0.0.1"


class CentralConfig(Schema, frozen=True):
    """The whole central config file."""

    central: CentralSection
    mqtt: MqttConfig = MqttConfig()
    metrics: MetricsSection = MetricsSection()
