"""Requests to central in flight, matched to responses by id, with deadlines."""

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from edge_common.errors import EdgeError, RemoteError, RequestTimeout

Callback = Callable[[dict | None, EdgeError | None], None]


@dataclass
class _Pending:
    deadline: float
    callback: Callback


def outcome(body: dict) -> tuple[dict | None, EdgeError | None]:
    """Split a response body into (result, None) or (None, RemoteError with central's code)."""
    if body.get("ok") is True:
        result = body.get("result")
        return (result if isinstance(result, dict) else {}), None
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    code = error.get("code") if isinstance(error.get("code"), str) else "remote_error"
    return None, RemoteError(str(error.get("message", code)), code=code)


class Requests:
    """Pending requests; callbacks run on whichever thread resolves or expires them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}

    def add(self, id: str, deadline: float, callback: Callback) -> None:
        """Track a request until its response arrives or its deadline passes."""
        with self._lock:
            self._pending[id] = _Pending(deadline, callback)

    def future(self, id: str, deadline: float) -> Future:
        """Track a request whose result a caller will wait for."""
        fut: Future = Future()

        def done(result, error):
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
