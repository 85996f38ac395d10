"""How a message type is declared: its name, channel, senders, body and answer Structs."""

import builtins
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, overload

import msgspec

from edge_common.errors import InvalidMessage
from edge_common.ids import DEVICE_KINDS

B = TypeVar("B", bound="Body")
A = TypeVar("A", bound="Answer")
Channel = Literal["evt", "req"]


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """A message body: unknown fields are refused (a sender that disagrees fails at once)."""


class Answer(msgspec.Struct, kw_only=True):
    """What central answers; a device ignores fields it does not know yet."""


class Nothing(Answer):
    """An answer with nothing in it."""


@dataclass(frozen=True)
class Message(Generic[B, A]):
    """One message type of the wire: sent on `channel` by `senders` (None: any device kind)."""

    type: str
    channel: Channel
    body: builtins.type[B]  # builtins: plain `type` here would be the field above
    answer: builtins.type[A]
    senders: frozenset[str] | None = None

    def check(self, body: object) -> None:
        """Raise TypeError unless `body` is this message's body Struct (a sender's bug)."""
        if not isinstance(body, self.body):
            raise TypeError(f"{self.type} takes a {self.body.__name__}, not"
                            f" {type(body).__name__}")

    def decode_body(self, raw: object) -> B:
        """A received body as its Struct, or InvalidMessage('bad_body')."""
        try:
            return msgspec.convert(raw, self.body)
        except msgspec.ValidationError as exc:
            raise InvalidMessage(str(exc), code="bad_body") from exc

    def decode_answer(self, raw: object) -> A:
        """A received answer as its Struct, or InvalidMessage('answer_invalid')."""
        try:
            return msgspec.convert(raw, self.answer)
        except msgspec.ValidationError as exc:
            raise InvalidMessage(str(exc), code="answer_invalid") from exc

    def answer_from(self, raw: dict[str, Any]) -> A:
        """Central's answer built from a domain result (extra keys dropped, types checked)."""
        return msgspec.convert(raw, self.answer)


MESSAGES: dict[str, Message[Any, Any]] = {}


def _declare(type: str, channel: Channel, body: type[B], answer: type[A],
             senders: set[str] | None) -> Message[B, A]:
    if type in MESSAGES:
        raise ValueError(f"message type {type!r} declared twice")
    if senders is not None and not senders <= set(DEVICE_KINDS):
        raise ValueError(f"unknown device kind in {sorted(senders)}")
    msg = Message(type, channel, body, answer, frozenset(senders) if senders else None)
    MESSAGES[type] = msg
    return msg


@overload
def event(type: str, body: type[B], *,
          senders: set[str] | None = None) -> Message[B, Nothing]: ...


@overload
def event(type: str, body: type[B], answer: type[A], *,
          senders: set[str] | None = None) -> Message[B, A]: ...


def event(type: str, body: type[B], answer: type[Answer] = Nothing, *,
          senders: set[str] | None = None) -> Message[B, Any]:
    """Declare an event: sent through the outbox, acked by id, its answer only stored."""
    return _declare(type, "evt", body, answer, senders)


def request(type: str, body: type[B], answer: type[A], *,
            senders: set[str] | None = None) -> Message[B, A]:
    """Declare a request: answered on the sender's `res` topic."""
    return _declare(type, "req", body, answer, senders)
