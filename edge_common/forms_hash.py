"""The SHA-256 that binds a signed form's PDF to its raw strokes, shared by pad and central."""

import hashlib

import msgspec

from edge_common.protocol.forms import Signature


def strokes_json(signatures: list[Signature]) -> bytes:
    """The canonical JSON of a signatures list: msgspec's encoding with fields sorted by name."""
    return msgspec.json.encode(signatures, order="sorted")


def form_hash(pdf: bytes, signatures: list[Signature]) -> str:
    """Hex SHA-256 over the PDF bytes followed by the canonical JSON of the signatures."""
    digest = hashlib.sha256(pdf)
    digest.update(strokes_json(signatures))
    return digest.hexdigest()
