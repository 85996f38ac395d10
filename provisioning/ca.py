"""Central's own certificate authority: the CA, and the server certificate that the broker's
device listener and the enrolment endpoint present (`libedge admin ca init`).

Devices trust this CA only; they learn it at enrolment, pinned by its SHA-256 fingerprint.
"""

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edge_common.errors import EdgeError
from edge_common.files import write_private

CA_DAYS = 3650
SERVER_DAYS = 825


class CaError(EdgeError, ValueError):
    """The CA folder is missing, incomplete or already initialised."""

    code = "ca_invalid"


@dataclass(frozen=True)
class CaFiles:
    """Where a CA folder keeps its certificates and keys (keys are 0600)."""

    root: Path

    @property
    def ca_cert(self) -> Path:
        """The CA certificate devices trust."""
        return self.root / "ca.pem"

    @property
    def ca_key(self) -> Path:
        """The CA's private key."""
        return self.root / "ca.key"

    @property
    def server_cert(self) -> Path:
        """The certificate of the broker's TLS listener and the enrolment endpoint."""
        return self.root / "server.pem"

    @property
    def server_key(self) -> Path:
        """The server certificate's private key."""
        return self.root / "server.key"

    def check(self) -> "CaFiles":
        """Self, or CaError naming the first missing file."""
        for path in (self.ca_cert, self.ca_key, self.server_cert, self.server_key):
            if not path.is_file():
                raise CaError(f"{path} missing: run `libedge admin ca init`", code="ca_missing")
        return self


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "libedge"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def init(root: Path, hosts: list[str], name: str = "libedge central CA",
         now: datetime | None = None) -> CaFiles:
    """Create a CA and a server certificate for `hosts` (names or IP addresses) under `root`;
    refuse (`ca_exists`) to overwrite an existing CA, whose devices would stop trusting us."""
    files = CaFiles(root)
    if files.ca_cert.exists():
        raise CaError(f"{files.ca_cert} exists: a new CA would lock every device out",
                      code="ca_exists")
    now = now or datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5))
          .not_valid_after(now + timedelta(days=CA_DAYS))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
              ca_key.public_key()), critical=False)
          .add_extension(x509.KeyUsage(
              digital_signature=False, content_commitment=False, key_encipherment=False,
              data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
              encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(ca.subject)
              .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(minutes=5))
              .not_valid_after(now + timedelta(days=SERVER_DAYS))
              .add_extension(x509.SubjectAlternativeName([_san(h) for h in hosts]),
                             critical=False)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                             critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                  server_key.public_key()), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                  ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    write_private(files.ca_key, _key_pem(ca_key))
    write_private(files.server_key, _key_pem(server_key))
    files.server_cert.write_bytes(server.public_bytes(serialization.Encoding.PEM)
                                  + ca.public_bytes(serialization.Encoding.PEM))
    files.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return files


def fingerprint(pem: bytes) -> str:
    """SHA-256 (hex) of a PEM certificate's DER form: what a device pins at enrolment."""
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def pinned(pem: bytes, sha256: str) -> bytes:
    """The one certificate in `pem`, as PEM, if it is the one whose fingerprint is `sha256`;
    CaError (`ca_mismatch`) for anything else: another certificate, none, or any second one
    beside it (a bundle is never trusted as a whole)."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        certs = []
    ders = [c.public_bytes(serialization.Encoding.DER) for c in certs]
    if len(ders) != 1 or hashlib.sha256(ders[0]).hexdigest() != sha256.lower():
        raise CaError(f"{len(ders)} certificates, not exactly the pinned one",
                      code="ca_mismatch")
    return certs[0].public_bytes(serialization.Encoding.PEM)


def expires(pem: bytes) -> datetime:
    """When a PEM certificate (the first in the file) stops being valid."""
    return x509.load_pem_x509_certificate(pem).not_valid_after_utc
