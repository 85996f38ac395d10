"""A man in the middle of enrolment, for tests: an HTTPS server with a CA of its own that
serves a chosen CA bundle for `GET /v1/ca.pem` and relays `POST /v1/enrol` to the real
central, keeping every token it sees."""

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from provisioning import ca


class Mitm:
    """Listens on 127.0.0.1 with a server certificate from its own CA (`name`, under `root`),
    answers the CA request with `bundle(own_ca_pem)` and relays enrolments to `central`."""

    def __init__(self, root: Path, central: str, central_ca: Path, name: str,
                 bundle) -> None:
        self.files = ca.init(root, ["127.0.0.1"], name=name)
        self.tokens: list[bytes] = []
        own = self.files.ca_cert.read_bytes()
        served = bundle(own)
        seen = self.tokens

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._send(200, served)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                seen.append(body)
                answer = requests.post(f"{central}/v1/enrol", data=body, verify=str(central_ca),
                                       headers={"Content-Type": "application/json"},
                                       timeout=10)
                self._send(answer.status_code, answer.content)

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(self.files.server_cert, self.files.server_key)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()
