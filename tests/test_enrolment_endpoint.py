"""The HTTPS enrolment endpoint under slow, many and malformed clients, over real sockets: a
whole request has a deadline, connections are bounded, a bad Content-Length is answered."""

import json
import socket
import ssl
import threading

from provisioning.enrol import enrol
from tests.fleet import SITE
from tests.harness import cut_while_trickling

SLOW_HELLO = b"\x16\x03\x01\x02\x00" + b"\x01" * 145   # a TLS record of 512 bytes, begun


def _tls(fleet) -> ssl.SSLSocket:
    """A TLS connection to the endpoint, verified against central's CA."""
    context = ssl.create_default_context(cafile=str(fleet.stack.ca.ca_cert))
    raw = socket.create_connection(("127.0.0.1", fleet.stack.server.port), timeout=10)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def _answer(conn: socket.socket) -> bytes:
    """Everything the endpoint sends until it closes (it answers HTTP/1.0)."""
    got = b""
    while chunk := conn.recv(4096):
        got += chunk
    return got


def test_a_content_length_that_is_no_number_gets_request_invalid(fleet):
    for length in (b"\xb2", b"\xb9", b"1\xb3", b"-1"):      # ², ¹, 1³ pass isdigit()
        with _tls(fleet) as conn:
            conn.sendall(b"POST /v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Length: " + length
                         + b"\r\n\r\n{}")
            answer = _answer(conn)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 400"), (length, answer)
        assert json.loads(body)["code"] == "request_invalid"


def test_a_request_trickled_in_is_cut_at_its_deadline(fleet):
    fleet.stack.server.httpd.deadline = 2.0
    body = b'{"token": "' + b"x" * 100 + b'"}'
    with _tls(fleet) as conn:                                     # a body, a byte at a time
        conn.sendall(b"POST /v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                     % len(body))
        assert cut_while_trickling(conn, body)
    with _tls(fleet) as conn:                                     # the head, likewise
        assert cut_while_trickling(conn, b"GET /v1/ca.pem HTTP/1.1\r\nX-Slow: " + b"a" * 120)
    with socket.create_connection(("127.0.0.1", fleet.stack.server.port)) as conn:
        assert cut_while_trickling(conn, SLOW_HELLO)                  # a slow handshake


def test_connections_are_bounded_and_stalled_ones_cut_while_devices_still_enrol(fleet):
    server = fleet.stack.server.httpd
    server.deadline, server.slots = 3.0, threading.BoundedSemaphore(4)
    before = threading.active_count()
    stalled = [socket.create_connection(("127.0.0.1", fleet.stack.server.port))
               for _ in range(10)]
    open_ = set(range(10))
    try:
        for conn in stalled:
            conn.settimeout(0.02)
        for byte in SLOW_HELLO:                          # each sends a byte every 0.2 s or so
            for i in sorted(open_):
                try:
                    stalled[i].sendall(bytes([byte]))
                    if stalled[i].recv(1) == b"":
                        open_.discard(i)
                except TimeoutError:
                    pass
                except OSError:
                    open_.discard(i)
            assert threading.active_count() - before <= 4   # a thread each, 4 at most
            if not open_:
                break
        assert not open_                                 # beyond the bound at once, then cut
        ticket = fleet.stack.invite(fleet.db, "lock-1", SITE, "lockd")
        assert enrol(ticket, fleet.root / "lock-1").dev == "lock-1"
    finally:
        for conn in stalled:
            conn.close()
