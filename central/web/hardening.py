"""What every answer of the web pages carries and how much a client may hold: the security
headers, a deadline for each request to arrive whole, and uvicorn's bounds (one set of
settings for `libedge web`, the demo and the tests)."""

import asyncio
from typing import Any

import h11
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

REQUEST_SECONDS = 10.0      # a request's head and body arrive within this, or it is closed
MAX_CONNECTIONS = 200       # per server process; a request beyond them is answered 503
MAX_HEAD = 16_384           # bytes of request line and headers

HEADERS = [
    (b"content-security-policy", b"default-src 'none'; style-src 'self'; img-src 'self';"
                                 b" form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
NO_STORE = (b"cache-control", b"no-store")   # pages show names and card hashes: never cached


class SecurityHeaders:
    """ASGI middleware: the security headers on every answer, and `no-store` on every one but
    the static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the answer's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = HEADERS if scope["path"].startswith("/static/") else [*HEADERS, NO_STORE]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, sending)


class DeadlineH11(H11Protocol):
    """uvicorn's HTTP/1.1 with a deadline: from the connection's start, or its last answer, a
    request must arrive whole (head and body) within `deadline` seconds, else the connection
    is closed; a request that arrived is never cut while it is answered."""

    deadline = REQUEST_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request."""
        self._timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        """Start the clock again for the next request on this connection."""
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        if self._timer is not None:
            self._timer.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_later(self.deadline, self._expired)

    def _expired(self) -> None:
        if self.conn.their_state not in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED):
            self.transport.close()


SERVER: dict[str, Any] = {   # uvicorn.run / uvicorn.Config settings
    "http": DeadlineH11,
    "server_header": False,
    "limit_concurrency": MAX_CONNECTIONS,
    "timeout_keep_alive": 5,
    "h11_max_incomplete_event_size": MAX_HEAD,
}
