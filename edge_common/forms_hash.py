"""The SHA-256 of a signed form: the pad computes it, central checks it, verify re-checks it."""

import hashlib

import msgspec

from edge_common.protocol.forms import Signature


def form_hash(pdf: bytes, signatures: list[Signature]) -> str:
    """SHA-256 (hex) over the PDF bytes followed by the signatures' JSON encoding."""
    digest = hashlib.sha256(pdf)
    digest.update(msgspec.json.encode(signatures))
    return digest.hexdigest()
