"""HTTPS stand-ins for central at enrolment, for tests: a scripted one that answers as told
(including answers real central never gives), and a man in the middle that relays to the real
central, each with a CA of its own and keeping every request it was sent."""

import ssl
import threading
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from provisioning import ca


class Scripted:
    """Listens on 127.0.0.1 with a server certificate from its own CA (`name`, under `root`),
    answers the CA request with `bundle(own_ca_pem)` and each enrolment with `answer(body)`
    (status, body); keeps the paths asked for as sent (`asked`: the handler's own `path` has
    leading slashes merged), and the enrolments' headers and bodies (`headers`, `tokens`)."""

    def __init__(self, root: Path, name: str, bundle: Callable[[bytes], bytes],
                 answer: Callable[[bytes], tuple[int, bytes]]) -> None:
        self.files = ca.init(root, ["127.0.0.1"], name=name)
        self.asked: list[str] = []
        self.tokens: list[bytes] = []
        self.headers: list[Message] = []
        served = bundle(self.files.ca_cert.read_bytes())
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.asked.append(self.requestline.split()[1])
                self._send(200, served)

            def do_POST(self) -> None:
                outer.asked.append(self.requestline.split()[1])
                outer.headers.append(self.headers)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.tokens.append(body)
                self._send(*answer(body))

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


class Mitm(Scripted):
    """A man in the middle: serves `bundle(own_ca_pem)` as the CA and relays enrolments to the
    real `central` (trusting `central_ca`), keeping every token it sees."""

    def __init__(self, root: Path, central: str, central_ca: Path, name: str,
                 bundle: Callable[[bytes], bytes]) -> None:
        def relay(body: bytes) -> tuple[int, bytes]:
            answer = requests.post(f"{central}/v1/enrol", data=body, verify=str(central_ca),
                                   headers={"Content-Type": "application/json"}, timeout=10)
            return answer.status_code, answer.content

        super().__init__(root, name, bundle, relay)
