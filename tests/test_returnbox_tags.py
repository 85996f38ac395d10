"""Library RFID item tags (ISO 28560-3): documented byte vectors, round trips, every refusal
as its stable code, fuzzing of the decoder, and the RFID reader seam with a simulated field."""

import queue

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_common.errors import EdgeError
from edge_common.protocol import refusals
from returnbox import tags
from returnbox.rfid import RfidItemReader, SimTagSource
from returnbox.tags import Extension, ItemTag, TagError, Usage
from tests.harness import wait_for

# The Danish data model's own CRC check value, and a German library's 32-byte tag: item
# 11223344, country DE, library 705, CRC 0x3E51 (libdanrfid's test vector).
CHECK_STRING, CHECK_CRC = b"RFID tag data model", 0x1AEE
GERMAN = bytes.fromhex("11010131313232333334340000000000000000513e4445373035000000000000")


def test_the_crc_is_ccitt_as_the_data_model_documents_it():
    assert tags.crc16(CHECK_STRING) == CHECK_CRC
    assert tags.crc16(b"123456789") == 0x29B1        # CRC-16/CCITT-FALSE's check value


def test_a_documented_32_byte_tag_decodes_and_encodes_back_to_the_same_bytes():
    tag = tags.decode(GERMAN)
    assert tag == ItemTag(item_id="11223344", country="DE", owner="705", parts=1, part=1,
                          usage=Usage.CIRCULATING)
    assert tag.isil == "DE-705" and tag.owned_by("DE-705") and tag.owned_by("de-705")
    assert not tag.owned_by("SI-50001") and not tag.owned_by("")
    assert tags.encode(tag, size=32) == GERMAN


def test_blocks_delivered_in_the_other_byte_order_are_read_the_same():
    turned = b"".join(GERMAN[i:i + 4][::-1] for i in range(0, 32, 4))
    assert tags.decode(turned) == tags.decode(GERMAN)


def _with_crc(memory: bytearray) -> bytes:
    crc = tags.crc16(bytes(memory[:19] + memory[21:].ljust(13, b"\0")[:13]))
    memory[19:21] = bytes([crc & 0xFF, crc >> 8])
    return bytes(memory)


@pytest.mark.parametrize(("memory", "code"), [
    (GERMAN[:31], "tag_length"),
    (GERMAN + b"\0", "tag_length"),
    (b"", "tag_length"),
    (GERMAN[:19] + b"\x52\x3e" + GERMAN[21:], "tag_crc"),
    (GERMAN[:5] + b"9" + GERMAN[6:], "tag_crc"),
    (_with_crc(bytearray(b"\x21" + GERMAN[1:])), "tag_version"),
    (_with_crc(bytearray(GERMAN[:3] + b"1\xe92" + GERMAN[6:])), "tag_id_invalid"),
    (_with_crc(bytearray(GERMAN[:3] + b"11\x0022" + GERMAN[8:])), "tag_id_invalid"),
    (_with_crc(bytearray(GERMAN[:3] + b"\0" * 16 + GERMAN[19:])), "tag_id_invalid"),
    (_with_crc(bytearray(GERMAN[:23] + b"7\x805" + GERMAN[26:])), "tag_owner_invalid"),
])
def test_bad_memory_is_a_stable_code(memory, code):
    with pytest.raises(TagError) as bad:
        tags.decode(memory)
    assert bad.value.code == code
    assert isinstance(bad.value, EdgeError) and isinstance(bad.value, ValueError)
    assert code in refusals.TAGS


def test_a_34_byte_block_with_extension_blocks_round_trips_and_a_bad_one_is_refused():
    tag = ItemTag(item_id="00012345678", country="SI", owner="50001", parts=2, part=1,
                  usage=Usage.NOT_CIRCULATING,
                  extensions=(Extension(1, b"\x02\x00ALT-7"), Extension(0x0203, b"")))
    memory = tags.encode(tag)
    assert len(memory) == 34 + 11 + 4 + 1 and memory[-1] == 0
    assert tags.decode(memory) == tag and tag.isil == "SI-50001"
    assert tags.decode(memory + b"\xff" * 8) == tag              # after the end: ignored
    assert tags.decode(memory[:34] + b"\x01\x01" + memory[34:]) == tag   # fillers
    broken = bytearray(memory)
    broken[40] ^= 1
    for bad in (bytes(broken), memory[:40], memory[:34] + b"\x03\x01\x00"):
        with pytest.raises(TagError) as refused:
            tags.decode(bad)
        assert refused.value.code == "tag_block_invalid"


def test_encode_refuses_what_does_not_fit():
    for tag, size, code in [
            (ItemTag(item_id="x" * 17), 34, "tag_id_invalid"),
            (ItemTag(item_id="čšž"), 34, "tag_id_invalid"),
            (ItemTag(item_id=""), 34, "tag_id_invalid"),
            (ItemTag(item_id="1", owner="1234567890"), 32, "tag_owner_invalid"),
            (ItemTag(item_id="1", extensions=(Extension(1, b""),)), 32, "tag_length"),
            (ItemTag(item_id="1", version=2), 34, "tag_version")]:
        with pytest.raises(TagError) as refused:
            tags.encode(tag, size)
        assert refused.value.code == code


ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E))
item_tags = st.builds(
    ItemTag, item_id=ascii_text.filter(bool).map(lambda s: s[:16]),
    country=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=0, max_size=2),
    owner=ascii_text.map(lambda s: s[:11]), parts=st.integers(0, 255),
    part=st.integers(0, 255), usage=st.sampled_from(Usage),
    extensions=st.lists(st.builds(Extension, st.integers(0, 0xFEFF),
                                  st.binary(max_size=40)), max_size=3).map(tuple))


@given(item_tags)
def test_every_tag_round_trips(tag):
    assert tags.decode(tags.encode(tag)) == tag


@given(st.binary(max_size=120))
def test_any_bytes_decode_to_a_tag_or_a_stable_code(memory):
    try:
        tag = tags.decode(memory)
    except TagError as exc:
        assert exc.code in refusals.TAGS
    else:
        assert tag.item_id and tag.item_id.isascii()


@given(st.integers(0, 31), st.integers(1, 255))
def test_one_damaged_byte_of_a_real_tag_is_always_caught_by_the_crc(at, flip):
    memory = bytearray(GERMAN)
    memory[at] ^= flip
    with pytest.raises(TagError) as bad:
        tags.decode(bytes(memory))
    assert bad.value.code == "tag_crc"


def test_the_rfid_reader_reads_our_tags_reports_others_and_survives_a_lost_source():
    source = SimTagSource()
    refused: queue.Queue = queue.Queue()
    reads: queue.Queue = queue.Queue()
    states: list[str] = []
    reader = RfidItemReader("rfid", source, "SI-50001",
                            on_refused=lambda code, tag: refused.put((code, tag)))
    reader.start(reads.put, lambda state, detail: states.append(state))
    try:
        ours = ItemTag(item_id="B1", country="SI", owner="50001")
        source.put(tags.encode(ours))
        read = reads.get(timeout=30)
        assert (read.uid, read.kind, read.reader) == ("B1", "barcode", "rfid")
        source.put(GERMAN)
        assert refused.get(timeout=30) == ("tag_not_ours", tags.decode(GERMAN))
        source.put(b"\x00" * 7)
        assert refused.get(timeout=30) == ("tag_length", None)
        source.unplug()
        wait_for(lambda: "lost" in states, what="the reader reported lost")
        source.plug()
        wait_for(lambda: states[-1] == "ok" and states.count("ok") >= 2, what="reader back")
        source.put(tags.encode(ItemTag(item_id="B2", country="SI", owner="50001")))
        assert reads.get(timeout=30).uid == "B2"
        assert reads.empty()
    finally:
        reader.stop()
