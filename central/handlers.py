"""The registry of device message handlers: one function per message type, applied exactly once."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import sqlite_utils

from edge_common.errors import EdgeError


@dataclass(frozen=True)
class Device:
    """A device as central knows it: id, branch (site) and kind."""

    id: str
    site: str
    kind: str


@dataclass
class Context:
    """What a handler may use: the open transaction, the sending device and central's clock."""

    db: sqlite_utils.Database
    device: Device
    message_id: str
    sent_at: datetime
    now: datetime
    seq: int = 0


@dataclass(frozen=True)
class Handler:
    """A message type's body schema and the function that applies it."""

    type: str
    body: type
    fn: Callable[[Context, Any], dict | None]
    read_only: bool
    kinds: frozenset[str] | None


class HandlerError(EdgeError):
    """A handler refused a message; `code` is what the device is told."""

    code = "refused"


REGISTRY: dict[str, Handler] = {}


def handler(
    type: str, body: type, *, read_only: bool = False, kinds: set[str] | None = None
) -> Callable:
    """Register `fn(ctx, body)` for messages of `type`; the body is validated against `body`.

    `read_only` handlers change nothing, so their answers are not stored for replay;
    `kinds` limits which device kinds may send the type (None: any).
    """

    def register(fn: Callable[[Context, Any], dict | None]) -> Callable:
        if type in REGISTRY:
            raise ValueError(f"handler for {type!r} registered twice")
        REGISTRY[type] = Handler(type, body, fn, read_only, frozenset(kinds) if kinds else None)
        return fn

    return register


def decode_body(h: Handler, body: dict) -> Any:
    """Validate a raw body against the handler's schema, or raise HandlerError('bad_body')."""
    try:
        return msgspec.convert(body, h.body)
    except msgspec.ValidationError as exc:
        raise HandlerError(str(exc), code="bad_body") from exc
