"""A real SMTP server for tests (aiosmtpd) on a free loopback port: plain, STARTTLS or SSL."""

import email
import ssl
import subprocess
from email import policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from provisioning.broker import free_port


class Inbox:
    """An aiosmtpd handler that keeps every accepted message and refuses chosen recipients."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Refuse the recipients in `refuse` with a permanent error."""
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        """Keep the message, parsed."""
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 made with openssl; the certificate is its own CA."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


class MailServer:
    """An SMTP server that can be started, stopped and started again on the same port."""

    def __init__(self, tls: tuple[Path, Path] | None = None, implicit_tls: bool = False,
                 login: tuple[str, str] | None = None):
        self.port = free_port()
        self.inbox = Inbox()
        self.login = login
        self._controller: Controller | None = None
        context = None
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
        # with implicit TLS aiosmtpd does not see the session as encrypted: allow AUTH anyway
        self._tls = {"ssl_context": context, "auth_require_tls": False} if implicit_tls else {
            "tls_context": context, "require_starttls": context is not None}

    def _authenticate(self, server, session, envelope, mechanism, data) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.login == (
            data.login.decode(), data.password.decode())
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        """Listen on 127.0.0.1:port."""
        extra = {"authenticator": self._authenticate, "auth_required": True} \
            if self.login else {}
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                      **self._tls, **extra)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening (connections are refused until the next start)."""
        if self._controller:
            self._controller.stop()
            self._controller = None
