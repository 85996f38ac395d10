"""The one JSON envelope every libedge MQTT message travels in, validated at the process edge."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

import msgspec
from ulid import ULID

from edge_common.errors import InvalidMessage

MAX_PAYLOAD = 1 << 20
ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
DEVICE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"

MessageId = Annotated[str, msgspec.Meta(pattern=ULID_PATTERN)]
DeviceId = Annotated[str, msgspec.Meta(pattern=DEVICE_ID_PATTERN)]
MessageType = Annotated[str, msgspec.Meta(pattern=TYPE_PATTERN, max_length=64)]


class Envelope(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """`{"v", "id", "type", "dev", "at", "seq", "body"}`: DESIGN §2."""

    v: Literal[1]
    id: MessageId
    type: MessageType
    dev: DeviceId
    at: Annotated[datetime, msgspec.Meta(tz=True)]
    seq: Annotated[int, msgspec.Meta(ge=0)]
    body: dict[str, Any]  # a Struct (protocol) when built here; decoded as a dict, then checked


_decoder = msgspec.json.Decoder(Envelope)
_encoder = msgspec.json.Encoder()


def new_id() -> str:
    """A fresh ULID string."""
    return str(ULID())


def make(type: str, dev: str, body: dict[str, Any] | msgspec.Struct, *, seq: int = 0,
         id: str | None = None) -> Envelope:
    """Build an envelope stamped now (UTC); a Struct body is encoded as its JSON object."""
    # `body` is declared as what decoding yields; a Struct encodes to that same JSON object
    return Envelope(1, id or new_id(), type, dev, datetime.now(UTC), seq,
                    cast(dict[str, Any], body))


def encode(env: Envelope) -> bytes:
    """The envelope as compact JSON bytes."""
    return _encoder.encode(env)


def decode(payload: bytes) -> Envelope:
    """Parse and validate a payload, or raise InvalidMessage with a stable code."""
    if len(payload) > MAX_PAYLOAD:
        raise InvalidMessage(f"payload of {len(payload)} bytes", code="payload_too_large")
    try:
        return _decoder.decode(payload)
    except msgspec.ValidationError as exc:
        raise InvalidMessage(str(exc), code="envelope_invalid") from exc
    except msgspec.DecodeError as exc:
        raise InvalidMessage(str(exc), code="json_invalid") from exc
