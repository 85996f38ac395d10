"""The registry of device message handlers: one function per message type, applied exactly once."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from central.database import Database
from edge_common.errors import EdgeError
from edge_common.protocol import Answer, Body, Message

B = TypeVar("B", bound=Body)
A = TypeVar("A", bound=Answer)


@dataclass(frozen=True)
class Device:
    """A device as central knows it: id, branch (site) and kind."""

    id: str
    site: str
    kind: str


@dataclass
class Context:
    """What a handler may use: the open transaction, the sending device and central's clock."""

    db: Database
    device: Device
    message_id: str
    sent_at: datetime
    now: datetime
    seq: int = 0
    received: str = ""  # `now` in ISO form, made once per batch

    @functools.cached_property
    def sent(self) -> str:
        """`sent_at` in ISO form (what the logs store)."""
        return self.sent_at.isoformat()


HandlerFn = Callable[[Context, B], A | None]  # None: the answer Struct with its defaults


@dataclass(frozen=True)
class Handler(Generic[B, A]):
    """A declared message type and the function that applies it."""

    message: Message[B, A]
    fn: HandlerFn[B, A]
    read_only: bool

    def run(self, ctx: Context, raw_body: dict[str, Any]) -> A:
        """Decode the body, apply it, and check the answer is the declared one."""
        answer = self.fn(ctx, self.message.decode_body(raw_body))
        if answer is None:
            answer = self.message.answer()
        if not isinstance(answer, self.message.answer):
            raise TypeError(f"{self.message.type} answered {type(answer).__name__},"
                            f" not {self.message.answer.__name__}")
        return answer


class HandlerError(EdgeError):
    """A handler refused a message; `code` is what the device is told."""

    code = "refused"


class Counted(HandlerError):
    """A refusal whose writes stand: the attempt it counts (a wrong PIN) is kept."""


REGISTRY: dict[str, Handler[Any, Any]] = {}
# what runs at the end of every batch, in its transaction, before it commits
BEFORE_COMMIT: list[Callable[[Database], None]] = []


def before_commit(fn: Callable[[Database], None]) -> Callable[
        [Database], None]:
    """Register `fn(db)` to finish, once per batch, what the batch's handlers left pending."""
    BEFORE_COMMIT.append(fn)
    return fn


def handler(message: Message[B, A], *,
            read_only: bool = False) -> Callable[[HandlerFn[B, A]], HandlerFn[B, A]]:
    """Register `fn(ctx, body)` for a declared message type (its body Struct in, answer out).

    `read_only` handlers change nothing, so their answers are not stored for replay; which
    device kinds may send the type is declared with the message.
    """

    def register(fn: HandlerFn[B, A]) -> HandlerFn[B, A]:
        if message.type in REGISTRY:
            raise ValueError(f"handler for {message.type!r} registered twice")
        REGISTRY[message.type] = Handler(message, fn, read_only)
        return fn

    return register
