"""Central's HTTPS enrolment endpoint: `GET /v1/ca.pem` (the CA, which a device checks against
the fingerprint it was given) and `POST /v1/enrol` (a one-time token in, a Grant out).

Refusals answer JSON `{"code", "error"}` and are logged with their code, never the token.
"""

import io
import logging
import socket
import ssl
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec

from central import enrolment
from central.invitations import TokenRefused
from central.store import open_store
from edge_common.errors import EdgeError
from edge_common.ids import IdRefused
from provisioning.grant import EnrolRequest, Refusal
from provisioning.settings import ProvisionConfig

log = logging.getLogger(__name__)
MAX_BODY = 4096
REQUEST_TIMEOUT = 10.0  # seconds a client may take for the handshake and its whole request
MAX_CONNECTIONS = 32    # at once; more are closed unanswered (a device retries)
STATUS = {"token_invalid": HTTPStatus.FORBIDDEN, "id_invalid": HTTPStatus.CONFLICT,
          "id_reserved": HTTPStatus.CONFLICT, "kind_unknown": HTTPStatus.CONFLICT,
          "token_used": HTTPStatus.GONE,
          "token_expired": HTTPStatus.GONE, "request_invalid": HTTPStatus.BAD_REQUEST,
          "not_found": HTTPStatus.NOT_FOUND}


class EnrolmentServer:
    """The endpoint on its own thread; one enrolment at a time (each takes milliseconds)."""

    def __init__(self, db_path: str, cfg: ProvisionConfig, port: int | None = None) -> None:
        files = cfg.ca().check()
        self.cfg = cfg
        self.ca_pem = files.ca_cert.read_text()
        self._db = open_store(db_path)
        self._dynsec = cfg.dynsec()
        self._lock = threading.Lock()
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.load_cert_chain(files.server_cert, files.server_key)
        self.httpd = _Server((cfg.enrolment.listen,
                              cfg.enrolment.port if port is None else port), _handler(self))
        # the handshake runs in each request's thread: a client that never completes it
        # must not stop the accepting thread
        self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True,
                                            do_handshake_on_connect=False)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="enrolment",
                                        daemon=True)

    def start(self) -> None:
        """Serve on the endpoint's thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the database."""
        if self._thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()
        self._db.close()

    def enrol(self, raw: bytes) -> tuple[HTTPStatus, bytes]:
        """Answer one POST /v1/enrol body: the grant, or a refusal with its code."""
        try:
            token = msgspec.json.decode(raw, type=EnrolRequest).token
            with self._lock:
                grant = enrolment.enrol(
                    self._db, token, self._dynsec, ca_pem=self.ca_pem,
                    device_host=self.cfg.broker.device_host,
                    device_port=self.cfg.broker.device_port)
        except msgspec.DecodeError as exc:
            return _refuse(EdgeError(str(exc), code="request_invalid"))
        except (TokenRefused, IdRefused) as exc:  # IdRefused: an invitation made before ids
            return _refuse(exc)                  # were checked, which nothing can honour
        except EdgeError as exc:
            log.error("enrolment failed: [%s] %s", exc.code, exc)
            return _refuse(exc, HTTPStatus.SERVICE_UNAVAILABLE)
        log.info("enrolled %s (%s) at %s", grant.dev, grant.kind, grant.site)
        return HTTPStatus.OK, msgspec.json.encode(grant)


class _Server(ThreadingHTTPServer):
    """The HTTP server, a thread per connection up to `slots` at once, each connection's
    request bounded by `deadline` in all; a failed connection (a TLS handshake refused, a
    client gone, too slow) is logged as one line instead of a traceback on stderr."""

    daemon_threads = True
    deadline = REQUEST_TIMEOUT

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection on a thread of its own, or close it when all slots are taken."""
        if not self.slots.acquire(blocking=False):
            log.warning("enrolment endpoint busy: closed a connection from %s", client_address)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve, then give the slot back."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: object, client_address: object) -> None:
        """Log why a connection failed, in one line."""
        exc = sys.exc_info()[1]
        log.info("enrolment connection from %s failed: %s", client_address, exc)


def _refuse(exc: EdgeError, status: HTTPStatus | None = None) -> tuple[HTTPStatus, bytes]:
    log.warning("enrolment refused: [%s] %s", exc.code, exc)
    return (status or STATUS.get(exc.code, HTTPStatus.BAD_REQUEST),
            msgspec.json.encode(Refusal(exc.code, str(exc))))


class _Deadline(io.RawIOBase):
    """A connection's reads, each allowed only what is left until the request's deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        """It is read."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Read what arrives before the deadline; TimeoutError after it."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request's deadline passed")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


def _handler(server: EnrolmentServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """One HTTPS request to the enrolment endpoint."""

        timeout = REQUEST_TIMEOUT

        def setup(self) -> None:
            """Read the connection (the TLS handshake too) against the request's deadline."""
            super().setup()
            deadline = time.monotonic() + getattr(self.server, "deadline", REQUEST_TIMEOUT)
            self.rfile = io.BufferedReader(_Deadline(self.connection, deadline))

        def do_GET(self) -> None:
            """The CA certificate, or not found."""
            if self.path == "/v1/ca.pem":
                self._send(HTTPStatus.OK, server.ca_pem.encode(), "application/x-pem-file")
            else:
                self._send(*_refuse(EdgeError(self.path, code="not_found")))

        def do_POST(self) -> None:
            """An enrolment."""
            length = self.headers.get("Content-Length") or "0"
            size = int(length) if length.isascii() and length.isdigit() else -1
            if self.path != "/v1/enrol":
                self._send(*_refuse(EdgeError(self.path, code="not_found")))
            elif not 0 < size <= MAX_BODY:
                self._send(*_refuse(EdgeError(f"body of {size} B", code="request_invalid")))
            else:
                self._send(*server.enrol(self.rfile.read(size)))

        def _send(self, status: HTTPStatus, body: bytes,
                  content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Requests go to the logger (paths only; bodies are never logged)."""
            log.debug("%s " + format, self.address_string(), *args)

    return Handler

