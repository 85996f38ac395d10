"""The library's seal on archived forms, on its own: made once as private files, sealing by
appending, and each way a seal can be wrong found with its code."""

import io
import os
import stat
import time
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from central.circulation import seal
from tests.signed_forms import form_pdf, signature
from tests.signpad_forms import form


@pytest.fixture(scope="module")
def pdf() -> bytes:
    """A pad's signed form."""
    return form_pdf(form(signers=("patron",)), [signature()])


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> seal.SealKey:
    """The library's seal."""
    return seal.seal_key(tmp_path_factory.mktemp("archive") / "seal", "Mestna knjižnica")


def test_the_seal_is_made_once_as_private_files_and_named_for_the_library(tmp_path):
    folder = tmp_path / "forms" / "seal"
    made = seal.seal_key(folder, "Mestna knjižnica")
    assert sorted(p.name for p in folder.iterdir()) == ["seal.key", "seal.pem"]
    assert stat.S_IMODE(os.stat(folder / "seal.key").st_mode) == 0o600
    assert seal.seal_key(folder, "Another") == made                  # kept, not made again
    subject = made.cert.subject.native
    assert subject["organization_name"] == "Mestna knjižnica"
    assert subject["common_name"] == "Mestna knjižnica form archive seal"
    assert not list(tmp_path.glob("forms/.seal*"))                    # no half-made folder


def test_a_seal_by_this_key_over_the_whole_file_has_no_problems(pdf, key):
    sealed = seal.seal(pdf, key, "form 1 archived")
    assert sealed.startswith(pdf) and len(sealed) > len(pdf)
    assert seal.problems(sealed, key) == []


def test_no_seal_or_no_pdf_is_seal_missing_and_garbage_cannot_be_sealed(pdf, key):
    assert seal.problems(pdf, key) == ["seal_missing"]
    assert seal.problems(b"not a pdf at all", key) == ["seal_missing"]
    with pytest.raises(seal.SealError) as exc:
        seal.seal(b"%PDF-1.7 garbage", key, "x")
    assert exc.value.code == "pdf_unreadable"


def test_another_keys_seal_is_untrusted(pdf, key, tmp_path):
    forger = seal.seal_key(tmp_path / "forger")
    assert seal.problems(seal.seal(pdf, forger, "forged"), key) == ["seal_untrusted"]


def test_an_intact_seal_whose_signature_does_not_verify_is_broken(pdf, key):
    """The library's certificate, but signed with another key: every byte the seal covers is
    as it was (intact), yet the signature is not the certificate's (invalid)."""
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    wrong = seal.SealKey(key.cert, asn1_keys.PrivateKeyInfo.load(other))
    assert seal.problems(seal.seal(pdf, wrong, "x"), key) == ["seal_broken", "seal_untrusted"]


def test_a_changed_byte_under_the_seal_breaks_it(pdf, key):
    sealed = bytearray(seal.seal(pdf, key, "x"))
    sealed[len(pdf) // 2] ^= 0x01
    assert "seal_broken" in seal.problems(bytes(sealed), key)


def test_anything_added_after_the_seal_is_modified_after_seal(pdf, key):
    """An update that changes the document, bytes merely appended, and a second signature
    (even by the library's own key): each leaves the seal intact but is not what was sealed."""
    sealed = seal.seal(pdf, key, "x")
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    writer.root[generic.NameObject("/Lang")] = generic.TextStringObject("xx")
    writer.update_root()
    changed = io.BytesIO()
    writer.write(changed)
    assert seal.problems(changed.getvalue(), key) == ["modified_after_seal"]
    assert seal.problems(sealed + b"%appended\n", key) == ["modified_after_seal"]
    signer = signers.SimpleSigner(signing_cert=key.cert, signing_key=key.key,
                                  cert_registry=SimpleCertificateStore.from_certs([key.cert]))
    twice = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(sealed)),
                             signers.PdfSignatureMetadata(
                                 field_name="Second", md_algorithm="sha256",
                                 subfilter=fields.SigSeedSubFilter.PADES), signer=signer)
    assert seal.problems(twice.getvalue(), key) == ["modified_after_seal"]


def test_the_seal_certificate_is_a_signing_only_end_entity_for_thirty_years(tmp_path,
                                                                           monkeypatch):
    """Made in a folder whose parents do not exist yet, on a machine clock that is not on UTC:
    key usage is signing and non-repudiation only (critical), it is no CA (critical), valid
    from five minutes before it was made for 30 years; the library's name is `libedge` unless
    given."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        before = datetime.now(UTC).replace(microsecond=0)
        made = seal.seal_key(tmp_path / "a" / "b" / "seal")
        after = datetime.now(UTC)
    finally:
        monkeypatch.undo()
        time.tzset()
    cert = x509.load_der_x509_certificate(made.cert.dump())
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and (usage.value.digital_signature, usage.value.content_commitment) == (
        True, True)
    assert not any((usage.value.key_encipherment, usage.value.data_encipherment,
                    usage.value.key_agreement, usage.value.key_cert_sign, usage.value.crl_sign))
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca is False
    start = cert.not_valid_before_utc
    assert before - timedelta(minutes=5) <= start <= after - timedelta(minutes=5)
    assert cert.not_valid_after_utc - start == timedelta(days=365 * 30, minutes=5)
    assert made.cert.subject.native["organization_name"] == "libedge"


def test_a_worker_that_made_the_seal_second_keeps_the_first(tmp_path):
    folder = tmp_path / "seal"
    first = seal.seal_key(folder)
    seal._create(folder, "late")                      # lost the race: its key is dropped
    assert seal.seal_key(folder) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seal"]


def test_the_seal_says_why_and_is_a_pades_sha256_signature(pdf, key):
    [found] = PdfFileReader(io.BytesIO(seal.seal(pdf, key, "form 7 archived"))
                            ).embedded_signatures
    assert found.sig_object["/Reason"] == "form 7 archived"
    assert found.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert found.md_algorithm == "sha256"
