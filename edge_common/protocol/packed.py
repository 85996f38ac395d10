"""Pages of a full copy packed small: msgpack rows, zlib-compressed, as base64 text inside the
JSON envelope (`sync.pull` with `format: 2`); allow-list keys cut to 96 bits.

Why 96 bits is enough: a site's list of n card hashes holds two cards with the same 96-bit
prefix with probability about n² / 2⁹⁷, which for a million cards is 6 × 10⁻¹⁸; an unlisted
card matches some listed prefix with probability n / 2⁹⁶, 1.3 × 10⁻²³ a tap. Both are far below
the odds of a flipped bit in the door's memory. Devices keep allow-list rows under the prefix
(`short_key`), whatever form they arrived in, and look cards up by it.
"""

import base64
import binascii
import zlib
from collections.abc import Sequence
from typing import Annotated

import msgspec

from edge_common.protocol.datasets import ALLOWLIST, Key, check_raw_row

KEY_CHARS = {ALLOWLIST: 24}   # hex characters kept of a dataset's keys: 96 bits
MAX_UNPACKED = 8 << 20        # bytes a packed page may hold once decompressed
FORMAT = 2                    # the `format` of a `sync.pull` that answers packed pages
PAGE = 10_000                 # rows a packed page holds: the most a `sync.pull` asks
Row = tuple[str, bytes | None]  # a key and its row's JSON, None for a deletion

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(
    Annotated[list[tuple[Key, bytes | None]], msgspec.Meta(max_length=PAGE)])


class PackedInvalid(ValueError):
    """A packed page that is not one: bad base64, too large unpacked, or a bad row."""


def short_key(dataset: str, key: str) -> str:
    """The key as devices keep it: an allow-list hash cut to 96 bits, other keys whole."""
    chars = KEY_CHARS.get(dataset)
    return key[:chars] if chars else key


def pack(dataset: str, rows: list[Row]) -> str:
    """Rows (stored JSON values, None for deleted keys) as a packed page's text."""
    return pack_kept([(short_key(dataset, k), v) for k, v in rows])


def pack_kept(rows: Sequence[Row]) -> str:
    """`pack` of rows whose keys are cut already (`short_key`)."""
    return base64.b64encode(zlib.compress(_encoder.encode(rows), 1)).decode("ascii")


def unpack(dataset: str, text: str) -> list[Row]:
    """A packed page's rows, each value checked as a row of `dataset` (keys as sent: a
    replica cuts them); raises PackedInvalid."""
    try:
        compressed = base64.b64decode(text, validate=True)
        inflate = zlib.decompressobj()
        packed = inflate.decompress(compressed, MAX_UNPACKED)
        if inflate.unconsumed_tail or not inflate.eof:
            raise PackedInvalid(f"a packed page over {MAX_UNPACKED} bytes, or cut short")
        rows = _decoder.decode(packed)
        for value in {value for _, value in rows}:   # each distinct row once: a list repeats
            if value is not None:                     # few (a category, flags, an end date)
                check_raw_row(dataset, value)
    except (binascii.Error, zlib.error, msgspec.DecodeError, ValueError) as exc:
        raise PackedInvalid(str(exc)) from exc
    return rows
