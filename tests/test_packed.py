"""Pages of a full copy packed small: what packs comes back, and a page with any bad row is
refused whole."""

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_common.protocol import packed
from edge_common.protocol.datasets import ALLOWLIST

GOOD = [b'{"cat":"adult"}', b'{"cat":"child","age":[16]}', b'{"cat":"adult","blk":true}']
BAD = [b'{"cat":7}', b"[1]", b"{", b'{"cat":"adult","age":[200]}', b'{"blk":false}']
hashes = st.text("0123456789abcdef", min_size=64, max_size=64)


@given(st.lists(st.tuples(hashes, st.none() | st.sampled_from(GOOD)), max_size=50))
def test_a_page_of_valid_rows_unpacks_to_its_rows_with_keys_cut(rows):
    """Rows packed come back as they went, allow-list keys cut to 96 bits."""
    assert packed.unpack(ALLOWLIST, packed.pack(ALLOWLIST, rows)) == [
        (k[:24], v) for k, v in rows]


@given(st.lists(st.sampled_from(GOOD), min_size=1, max_size=30), st.sampled_from(BAD),
       st.integers(0, 30))
def test_one_bad_row_among_many_alike_refuses_the_page(good, bad, at):
    """Each distinct row is checked once, however often it repeats: one bad row anywhere
    among many good ones, alike or not, refuses the whole page."""
    values = [*good[:at], bad, *good[at:]]
    rows = [(f"{n:024x}", v) for n, v in enumerate(values)]
    with pytest.raises(packed.PackedInvalid):
        packed.unpack(ALLOWLIST, packed.pack(ALLOWLIST, rows))


def test_a_page_of_more_rows_than_a_page_holds_or_an_empty_key_is_refused():
    """More than PAGE rows, or a key of no character, is no page."""
    import base64
    import zlib

    def raw(rows) -> str:
        return base64.b64encode(zlib.compress(msgspec.msgpack.encode(rows))).decode()

    with pytest.raises(packed.PackedInvalid):
        packed.unpack(ALLOWLIST, raw([("k", GOOD[0])] * (packed.PAGE + 1)))
    with pytest.raises(packed.PackedInvalid):
        packed.unpack(ALLOWLIST, raw([("", GOOD[0])]))
