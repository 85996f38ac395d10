"""Requests to central in flight, matched to responses by id, with deadlines."""

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import msgspec

from edge_common.errors import EdgeError, InvalidMessage, RemoteError, RequestTimeout
from edge_common.protocol.backbone import DeviceResponse, Error

Callback = Callable[[dict | None, EdgeError | None], None]


@dataclass
class _Pending:
    deadline: float
    callback: Callback


def outcome(body: dict) -> tuple[dict | None, EdgeError | None]:
    """Split a `Response` body into (result, None) or (None, RemoteError with central's code)."""
    try:
        response = msgspec.convert(body, DeviceResponse)
    except msgspec.ValidationError as exc:
        return None, InvalidMessage(str(exc), code="response_invalid")
    if response.ok:
        return response.result or {}, None
    error = response.error or Error("remote_error")
    return None, RemoteError(error.message or error.code, code=error.code)


class Requests:
    """Pending requests; callbacks run on whichever thread resolves or expires them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}

    def add(self, id: str, deadline: float, callback: Callback) -> None:
        """Track a request until its response arrives or its deadline passes."""
        with self._lock:
            self._pending[id] = _Pending(deadline, callback)

    def future(self, id: str, deadline: float) -> Future[dict | None]:
        """Track a request whose result a caller will wait for."""
        fut: Future[dict | None] = Future()

        def done(result: dict | None, error: EdgeError | None) -> None:
            if error is None:
                fut.set_result(result)
            else:
                fut.set_exception(error)

        self.add(id, deadline, done)
        return fut

    def resolve(self, id: str, body: dict) -> bool:
        """Deliver a response; False when nobody waits for this id (late or duplicate)."""
        with self._lock:
            pending = self._pending.pop(id, None)
        if pending is None:
            return False
        pending.callback(*outcome(body))
        return True

    def cancel(self, id: str, error: EdgeError) -> None:
        """Fail a request now."""
        with self._lock:
            pending = self._pending.pop(id, None)
        if pending:
            pending.callback(None, error)

    def expire(self, now: float) -> None:
        """Fail the requests whose deadline has passed."""
        with self._lock:
            late = [i for i, p in self._pending.items() if p.deadline <= now]
            gone = [self._pending.pop(i) for i in late]
        for p in gone:
            p.callback(None, RequestTimeout("central did not answer in time"))

    def next_deadline(self) -> float | None:
        """The earliest deadline, or None."""
        with self._lock:
            return min((p.deadline for p in self._pending.values()), default=None)
