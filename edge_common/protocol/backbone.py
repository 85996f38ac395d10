"""The messages of the backbone itself: acks, responses, device status and central's presence."""

from typing import Annotated, Generic, TypeVar

import msgspec

from edge_common.envelope import MessageId
from edge_common.protocol.fields import Code, Count, DatasetName, FreeForm, Name, Short, Version

Alarm = Annotated[str, msgspec.Meta(max_length=120)]
R = TypeVar("R")


class Rejected(msgspec.Struct, frozen=True):
    """An event central refused for good, with the code it was refused with."""

    id: MessageId
    code: Code


class Ack(msgspec.Struct, frozen=True, kw_only=True):
    """`ack` (central → device): events durably applied (`ids`) or refused for good."""

    ids: Annotated[list[MessageId], msgspec.Meta(max_length=100_000)] = []
    rejected: Annotated[list[Rejected], msgspec.Meta(max_length=100_000)] = []


class Error(msgspec.Struct, frozen=True):
    """Why central refused a request: a stable code and words for the log."""

    code: Code
    message: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Response(msgspec.Struct, Generic[R], frozen=True, kw_only=True, omit_defaults=True):
    """`response` (central → device, on `res`): the answer to request `re`, or its error.

    Central builds it around its declared answer Struct (`Response[Answer]`); a device
    decodes `DeviceResponse` and the answer from its result. What is unset stays off the wire.
    """

    re: Short = ""
    ok: bool
    result: R | None = None
    error: Error | None = None


DeviceResponse = Response[FreeForm]  # what a device decodes: any answer, as a bounded mapping


class DoorStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One door in a lock's status: relay, contact, lockdown, room and its last decision."""

    released: bool
    open: bool
    lockdown: bool
    room: Name
    inside: Count
    result: Annotated[str, msgspec.Meta(max_length=40)]


class CompartmentStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One compartment in a pickup locker's status: relay, door and occupancy sensor."""

    released: bool
    open: bool
    occupied: bool


class DeviceStatus(msgspec.Struct, frozen=True, kw_only=True):
    """`status` (retained; the will says offline): what staff see of a device."""

    online: bool
    kind: Short = ""
    version: Annotated[str, msgspec.Meta(max_length=100)] = ""
    outbox: Count = 0
    outbox_age: Annotated[float, msgspec.Meta(ge=0)] = 0.0  # seconds the oldest has waited
    dropped: Count = 0
    config_version: Count = 0  # the version of central's config in force
    card_key: Annotated[str, msgspec.Meta(max_length=12)] = ""  # card_keys.key_id, not the key
    alarms: Annotated[list[Alarm], msgspec.Meta(max_length=100)] = []
    datasets: Annotated[dict[DatasetName, Version], msgspec.Meta(max_length=100)] = {}
    doors: Annotated[dict[Name, DoorStatus], msgspec.Meta(max_length=100)] = {}
    compartments: Annotated[dict[Name, CompartmentStatus], msgspec.Meta(max_length=200)] = {}
    readers: Annotated[dict[Name, Annotated[str, msgspec.Meta(max_length=40)]],
                       msgspec.Meta(max_length=100)] = {}


class CentralPresence(msgspec.Struct, frozen=True):
    """A central worker's retained status: devices pull and resend when one comes online."""

    online: bool
