"""What passes over HTTPS at enrolment: the device's token in, everything it needs out."""

from typing import Annotated, Any

import msgspec

from edge_common.envelope import DeviceId, KindName, SiteId

Hex64 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class Ticket(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An invitation as a device takes it (a file on its boot partition, or a QR code):
    where central is, the one-time token, and the fingerprint of the CA to trust."""

    central: str
    token: str
    ca_sha256: Hex64


class EnrolRequest(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """POST /v1/enrol: the one-time token."""

    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class BrokerGrant(msgspec.Struct, frozen=True, kw_only=True):
    """The device's own broker account and where the broker's TLS listener is."""

    host: str
    port: int
    username: str
    password: str


class Grant(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to an enrolment: identity, keys, broker account, CA and config."""

    dev: DeviceId
    site: SiteId
    kind: KindName
    card_key: Hex64
    command_key: Hex64
    broker: BrokerGrant
    ca_pem: str
    config_version: int = 0
    config: dict[str, Any] = {}


class Refusal(msgspec.Struct, frozen=True):
    """An enrolment refused: a stable code and why."""

    code: str
    error: str
