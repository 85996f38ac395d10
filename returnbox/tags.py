"""Library RFID item tags: the user memory of an ISO 28560-3 tag (the fixed-length "Danish
data model"), decoded and encoded without I/O.

Layout of the basic block (34 bytes; a 32-byte tag drops the last two ISIL bytes, and its CRC
is still computed as if they were zero):

| bytes | field |
|---|---|
| 0 | version (high nibble, 1) and type of usage (low nibble) |
| 1 | parts in the set (0: not given) |
| 2 | this part's number |
| 3–18 | primary item identifier, ASCII, NUL-padded |
| 19–20 | CRC-16/CCITT of the block but these two bytes, LSB first (see `crc16`) |
| 21–22 | country of the owner library (ISO 3166 alpha-2) |
| 23–33 | owner library (ISIL without the country), NUL-padded |

Extension blocks may follow on larger tags: a length byte (counting the whole block; 0 ends
the list, 1 is a one-byte filler), a data block id (16 bits, LSB first; an id whose high
byte is 0xFF, the data model's escape to longer ids, is kept as read), a check byte, and the
data; the XOR of all the block's bytes is zero. Anything else is refused with a stable code.
"""

import binascii
import enum
from dataclasses import dataclass

from edge_common.errors import EdgeError

BASIC = 34
SHORT = 32                 # a 32-byte tag: the basic block without the last two ISIL bytes
CRC_AT = 19
ID_BYTES = 16
ISIL_BYTES = 11
VERSIONS = frozenset({1})
PRINTABLE = range(0x20, 0x7F)


class TagError(EdgeError, ValueError):
    """A tag's memory is not a readable library tag: `code` says why (`tag_length`, `tag_crc`,
    `tag_version`, `tag_id_invalid`, `tag_owner_invalid`, `tag_block_invalid`)."""

    code = "tag_invalid"


class Usage(enum.IntEnum):
    """The type of usage nibble: what the tagged thing is for."""

    ACQUISITION = 0          # just bought, not yet catalogued
    CIRCULATING = 1          # a lendable item
    NOT_CIRCULATING = 2      # for use in the library only
    LOCAL = 3
    LOCAL_2 = 4
    RESERVED_5 = 5
    RESERVED_6 = 6
    DISCARDED = 7
    PATRON_CARD = 8
    RESERVED_9 = 9
    RESERVED_10 = 10
    RESERVED_11 = 11
    RESERVED_12 = 12
    RESERVED_13 = 13
    RESERVED_14 = 14
    RESERVED_15 = 15


@dataclass(frozen=True)
class Extension:
    """One extension block: its data block id and its data (without length, id, checksum)."""

    block_id: int
    data: bytes


@dataclass(frozen=True)
class ItemTag:
    """What a library's item tag says: the item, the owner library and the set it belongs to."""

    item_id: str
    country: str = ""
    owner: str = ""                 # the owner library's ISIL without the country prefix
    parts: int = 1                  # parts in the set (0: not given)
    part: int = 1
    usage: Usage = Usage.CIRCULATING
    version: int = 1
    extensions: tuple[Extension, ...] = ()

    @property
    def isil(self) -> str:
        """The owner library's full ISIL (`SI-50001`), or what the tag holds of it."""
        if self.country and self.owner and not self.owner.upper().startswith(
                f"{self.country.upper()}-"):
            return f"{self.country}-{self.owner}"
        return self.owner or self.country

    def owned_by(self, isil: str) -> bool:
        """Whether the tag names `isil` (with or without its country prefix) as its owner."""
        wanted = isil.strip().upper()
        return bool(wanted) and wanted in (self.isil.upper(), self.owner.upper())


def crc16(data: bytes) -> int:
    """CRC-16/CCITT as ISO 28560-3 uses it: poly 0x1021, initial 0xFFFF, MSB first, no final
    XOR ("RFID tag data model" → 0x1AEE); the standard library's `binascii.crc_hqx`."""
    return binascii.crc_hqx(data, 0xFFFF)


def _block_crc(block: bytes) -> int:
    """The CRC of a basic block (32 or 34 bytes): every byte but the CRC, padded to 34."""
    padded = block.ljust(BASIC, b"\0")
    return crc16(padded[:CRC_AT] + padded[CRC_AT + 2:BASIC])


def _stored_crc(memory: bytes) -> int:
    return memory[CRC_AT] | memory[CRC_AT + 1] << 8


def _text(raw: bytes, field: str, code: str) -> str:
    """A NUL-padded ASCII field; printable characters only, no gap before the padding."""
    text = raw.rstrip(b"\0")
    if any(b not in PRINTABLE for b in text):
        raise TagError(f"the tag's {field} is not printable ASCII", code=code)
    return text.decode("ascii")


def _reversed_blocks(memory: bytes) -> bytes:
    """The memory with each 4-byte block's bytes in the other order (some readers deliver
    blocks so)."""
    return b"".join(memory[i:i + 4][::-1] for i in range(0, len(memory), 4))


def _extensions(rest: bytes) -> tuple[Extension, ...]:
    found = []
    at = 0
    while at < len(rest):
        length = rest[at]
        if length == 0:
            break
        if length == 1:
            at += 1
            continue
        block = rest[at:at + length]
        if length < 4 or len(block) < length:
            raise TagError(f"an extension block of {length} bytes does not fit",
                           code="tag_block_invalid")
        check = 0
        for byte in block:
            check ^= byte
        if check:
            raise TagError("an extension block's checksum is wrong", code="tag_block_invalid")
        found.append(Extension(block[1] | block[2] << 8, bytes(block[4:])))
        at += length
    return tuple(found)


def decode(memory: bytes) -> ItemTag:
    """The tag in a tag's user memory (32 bytes, or 34 and more with extension blocks), or a
    TagError with a stable code."""
    if len(memory) != SHORT and len(memory) < BASIC:
        raise TagError(f"{len(memory)} bytes are not a library tag", code="tag_length")
    size = SHORT if len(memory) == SHORT else BASIC
    if _block_crc(memory[:size]) != _stored_crc(memory):
        turned = _reversed_blocks(memory)
        if len(memory) % 4 or _block_crc(turned[:size]) != _stored_crc(turned):
            raise TagError("the tag's CRC does not match its data", code="tag_crc")
        memory = turned
    version, usage = memory[0] >> 4, memory[0] & 0x0F
    if version not in VERSIONS:
        raise TagError(f"data model version {version} is not one this box reads",
                       code="tag_version")
    item_id = _text(memory[3:3 + ID_BYTES], "item identifier", "tag_id_invalid")
    if not item_id:
        raise TagError("the tag holds no item identifier", code="tag_id_invalid")
    return ItemTag(
        item_id=item_id,
        country=_text(memory[21:23], "country", "tag_owner_invalid"),
        owner=_text(memory[23:size], "owner library", "tag_owner_invalid"),
        parts=memory[1], part=memory[2], usage=Usage(usage), version=version,
        extensions=_extensions(memory[BASIC:]) if size == BASIC else ())


def _field(text: str, size: int, name: str, code: str) -> bytes:
    raw = text.encode("ascii", errors="replace")
    if not text.isascii() or len(raw) > size or any(b not in PRINTABLE for b in raw):
        raise TagError(f"{name} {text!r} does not fit {size} printable ASCII bytes", code=code)
    return raw.ljust(size, b"\0")


def encode(tag: ItemTag, size: int = BASIC) -> bytes:
    """The user memory that decodes to `tag`: its basic block (34 bytes, or 32 for a small tag,
    whose owner then fits 9 bytes), its extension blocks and an end byte after them."""
    if size not in (SHORT, BASIC) or (size == SHORT and tag.extensions):
        raise TagError(f"a tag of {size} bytes cannot hold this", code="tag_length")
    if not tag.item_id:
        raise TagError("an item tag needs an item identifier", code="tag_id_invalid")
    if tag.version not in VERSIONS or not 0 <= tag.parts <= 255 or not 0 <= tag.part <= 255:
        raise TagError("version or set numbers out of range", code="tag_version")
    block = bytearray(bytes([tag.version << 4 | int(tag.usage), tag.parts, tag.part])
                      + _field(tag.item_id, ID_BYTES, "item id", "tag_id_invalid") + b"\0\0"
                      + _field(tag.country, 2, "country", "tag_owner_invalid")
                      + _field(tag.owner, size - 23, "owner library", "tag_owner_invalid"))
    crc = _block_crc(bytes(block))
    block[CRC_AT:CRC_AT + 2] = bytes([crc & 0xFF, crc >> 8])
    for ext in tag.extensions:
        if not 0 <= ext.block_id <= 0xFEFF or len(ext.data) > 251:
            raise TagError("an extension block is out of range", code="tag_block_invalid")
        frame = bytearray([len(ext.data) + 4, ext.block_id & 0xFF, ext.block_id >> 8, 0])
        frame += ext.data
        check = 0
        for byte in frame:
            check ^= byte
        frame[3] = check
        block += frame
    if tag.extensions:
        block.append(0)
    return bytes(block)
