"""The library's seal on archived forms: a PAdES signature (pyHanko) with the library's own
signing key and self-signed certificate, made on first use and kept as 0600 files beside the
archive, and its validation (intact, by this key, nothing changed after sealing).

pyHanko is imported where a seal is made or checked, never at import: it is heavy and warns
(DSA) on import, and every `libedge` command imports this module."""

import io
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from central.circulation.errors import Refused
from edge_common.files import write_private

SEAL_YEARS = 30
FIELD = "LibrarySeal"


class SealError(Refused):
    """A PDF that cannot be sealed (not a readable PDF)."""

    code = "pdf_unreadable"


@dataclass(frozen=True)
class SealKey:
    """The seal's key and certificate, as pyHanko takes them."""

    cert: asn1_x509.Certificate
    key: asn1_keys.PrivateKeyInfo


def _create(folder: Path, library: str) -> None:
    """Make a new key and self-signed certificate in a fresh folder, then move it in place
    at once (a worker racing this one keeps the first folder made)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, library),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"{library} form archive seal")])
    now = datetime.now(UTC)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          key_cert_sign=False, crl_sign=False, encipher_only=False,
                          decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * SEAL_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, hashes.SHA256()))
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.new")
    shutil.rmtree(tmp, ignore_errors=True)
    write_private(tmp / "seal.key", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (tmp / "seal.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    try:
        os.rename(tmp, folder)
    except OSError:                        # another worker made it first: use theirs
        shutil.rmtree(tmp, ignore_errors=True)


@cache
def _load(folder: Path) -> SealKey:
    pem = x509.load_pem_x509_certificate((folder / "seal.pem").read_bytes())
    key = serialization.load_pem_private_key((folder / "seal.key").read_bytes(), None)
    return SealKey(
        asn1_x509.Certificate.load(pem.public_bytes(serialization.Encoding.DER)),
        asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())))


def seal_key(folder: Path, library: str = "libedge") -> SealKey:
    """The seal kept in `folder`, made there on first use."""
    if not (folder / "seal.pem").is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        _create(folder, library)
    return _load(folder)


def seal(pdf: bytes, key: SealKey, reason: str) -> bytes:
    """The PDF with the library's PAdES seal appended (an incremental update: the original
    bytes stay the sealed file's first bytes)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(signing_cert=key.cert, signing_key=key.key,
                                  cert_registry=SimpleCertificateStore.from_certs([key.cert]))
    meta = signers.PdfSignatureMetadata(field_name=FIELD, md_algorithm="sha256", reason=reason,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        return signers.sign_pdf(writer, meta, signer=signer).getvalue()
    except (PdfError, SigningError, ValueError, KeyError, TypeError, IndexError,
            AttributeError) as exc:
        raise SealError(f"the form's PDF cannot be sealed: {exc}") from None


def problems(sealed: bytes, key: SealKey) -> list[str]:
    """What is wrong with a sealed PDF's seal, as codes (none: sealed by this key and not
    changed since): `seal_missing`, `seal_broken` (bytes changed), `seal_untrusted` (another
    key), `modified_after_seal`."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        found = PdfFileReader(io.BytesIO(sealed), strict=False).embedded_signatures
    except Exception:  # noqa: BLE001 - any unreadable file is simply not sealed
        return ["seal_missing"]
    if not found:
        return ["seal_missing"]
    try:
        status = validate_pdf_signature(found[-1], ValidationContext(trust_roots=[key.cert]))
    except Exception:  # noqa: BLE001 - a signature pyHanko cannot even check is broken
        return ["seal_broken"]
    out = []
    if not (status.intact and status.valid):
        out.append("seal_broken")
    if not status.trusted or status.signing_cert.dump() != key.cert.dump():
        out.append("seal_untrusted")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE or \
            status.modification_level != ModificationLevel.NONE or len(found) != 1:
        out.append("modified_after_seal")
    return out
