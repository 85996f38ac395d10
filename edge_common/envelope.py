"""The one JSON envelope every libedge MQTT message travels in, validated at the process edge."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

import msgspec
from ulid import ULID

from edge_common.errors import InvalidMessage
from edge_common.ids import ID_PATTERN

MAX_PAYLOAD = 1 << 20
MAX_DEPTH = 32  # JSON arrays and objects inside one another, the envelope itself counting one
MAX_INT = 2**53  # the largest integer on the wire: exact in a double, well inside SQLite's int64
EARLIEST_AT = datetime(1970, 1, 1, tzinfo=UTC)  # a Pi without a clock starts here
LATEST_AT = datetime(2200, 1, 1, tzinfo=UTC)  # far enough from year 9999 for date arithmetic
ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"

MessageId = Annotated[str, msgspec.Meta(pattern=ULID_PATTERN)]
DeviceId = Annotated[str, msgspec.Meta(pattern=ID_PATTERN)]
SiteId = Annotated[str, msgspec.Meta(pattern=ID_PATTERN)]
KindName = Annotated[str, msgspec.Meta(pattern=ID_PATTERN)]
MessageType = Annotated[str, msgspec.Meta(pattern=TYPE_PATTERN, max_length=64)]


class Envelope(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """`{"v", "id", "type", "dev", "at", "seq", "body"}`: DESIGN §2."""

    v: Literal[1]
    id: MessageId
    type: MessageType
    dev: DeviceId
    at: Annotated[datetime, msgspec.Meta(tz=True)]
    seq: Annotated[int, msgspec.Meta(ge=0, le=MAX_INT)]
    body: dict[str, Any]  # a Struct (protocol) when built here; decoded as a dict, then checked


_decoder = msgspec.json.Decoder(Envelope)
_encoder = msgspec.json.Encoder()


def new_id() -> str:
    """A fresh ULID string."""
    return str(ULID())


def make(type: str, dev: str, body: dict[str, Any] | msgspec.Struct, *, seq: int = 0,
         id: str | None = None, at: datetime | None = None) -> Envelope:
    """Build an envelope stamped `at` (default now, UTC); a Struct body is encoded as its JSON
    object."""
    # `body` is declared as what decoding yields; a Struct encodes to that same JSON object
    return Envelope(1, id or new_id(), type, dev, at or datetime.now(UTC), seq,
                    cast(dict[str, Any], body))


def encode(env: Envelope) -> bytes:
    """The envelope as compact JSON bytes."""
    return _encoder.encode(env)


def decode(payload: bytes) -> Envelope:
    """Parse and validate a payload, or raise InvalidMessage with a stable code.

    Whatever the payload, nothing else is raised, and what is returned nests at most
    MAX_DEPTH deep, so no receiver recurses into it further than that.
    """
    if len(payload) > MAX_PAYLOAD:
        raise InvalidMessage(f"payload of {len(payload)} bytes", code="payload_too_large")
    try:
        env = _decoder.decode(payload)
    except msgspec.ValidationError as exc:
        raise InvalidMessage(str(exc), code="envelope_invalid") from exc
    except msgspec.DecodeError as exc:
        raise InvalidMessage(str(exc), code="json_invalid") from exc
    except RecursionError as exc:
        raise InvalidMessage("JSON nested too deep to decode", code="nesting_too_deep") from exc
    except Exception as exc:  # noqa: BLE001 - whatever else the decoder raises, it is this payload's
        raise InvalidMessage(f"undecodable ({type(exc).__name__})", code="json_invalid") from exc
    if not EARLIEST_AT <= env.at < LATEST_AT:
        raise InvalidMessage(f"at {env.at.isoformat()} is out of range", code="envelope_invalid")
    if too_deep(env.body, MAX_DEPTH - 1):
        raise InvalidMessage(f"JSON nested deeper than {MAX_DEPTH}", code="nesting_too_deep")
    return env


def too_deep(value: object, limit: int) -> bool:
    """Whether decoded JSON `value` has more than `limit` arrays and objects in one another.

    Walks level by level, without recursion, and stops at the first level past `limit`.
    """
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        level = [child for v in level
                 for child in (v.values() if isinstance(v, dict) else v)
                 if isinstance(child, dict | list)]
        if not level:
            return False
    return bool(level)
