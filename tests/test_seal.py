"""The library's seal on archived forms, on its own: made once as private files, sealing by
appending, and each way a seal can be wrong found with its code."""

import io
import os
import stat

import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
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
