"""The envelope decoder: valid messages round-trip, anything else is a stable code."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_common import envelope
from edge_common.errors import InvalidMessage


def test_round_trip():
    env = envelope.make("access.decision", "lock-1", {"door": "d"}, seq=7)
    assert envelope.decode(envelope.encode(env)) == env


@pytest.mark.parametrize("payload, code", [
    (b"", "json_invalid"),
    (b"{", "json_invalid"),
    (b"[]", "envelope_invalid"),
    (b'{"v": 2}', "envelope_invalid"),
    (b"x" * (envelope.MAX_PAYLOAD + 1), "payload_too_large"),
])
def test_bad_payloads_have_codes(payload, code):
    with pytest.raises(InvalidMessage) as err:
        envelope.decode(payload)
    assert err.value.code == code


def _valid() -> dict:
    return json.loads(envelope.encode(envelope.make("a.b", "dev-1", {})))


@pytest.mark.parametrize("field, value", [
    ("id", "not-a-ulid"), ("type", "Bad Type"), ("dev", "../evil"), ("at", "yesterday"),
    ("at", "2026-01-01T00:00:00"), ("seq", -1), ("seq", "1"), ("body", []), ("extra", 1),
])
def test_wrong_fields_are_refused(field, value):
    raw = _valid() | {field: value}
    with pytest.raises(InvalidMessage) as err:
        envelope.decode(json.dumps(raw).encode())
    assert err.value.code == "envelope_invalid"


@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_raise_anything_else(data):
    try:
        envelope.decode(data)
    except InvalidMessage as exc:
        assert exc.code in {"json_invalid", "envelope_invalid"}


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from(list(_valid()) + ["x"]),
                       st.one_of(st.none(), st.integers(), st.text(max_size=30),
                                 st.dictionaries(st.text(max_size=5), st.integers())),
                       max_size=4))
def test_mutated_envelopes_never_raise_anything_else(changes):
    try:
        envelope.decode(json.dumps(_valid() | changes).encode())
    except InvalidMessage as exc:
        assert exc.code == "envelope_invalid"


def _nested(depth: int, kind: str = "[") -> bytes:
    """A valid envelope whose body field `x` holds `depth` arrays (or objects) in one another."""
    inner = b"[" * depth + b"]" * depth if kind == "[" else b'{"a":' * depth + b"0" + b"}" * depth
    return envelope.encode(envelope.make("a.b", "dev-1", {"x": 0})).replace(b'"x":0',
                                                                             b'"x":' + inner)


@pytest.mark.parametrize("depth", [envelope.MAX_DEPTH, 1_000, 100_000])
@pytest.mark.parametrize("kind", ["[", "{"])
def test_deep_nesting_is_a_code_not_a_recursion_error(depth, kind):
    with pytest.raises(InvalidMessage) as err:
        envelope.decode(_nested(depth, kind))
    assert err.value.code == "nesting_too_deep"


def test_nesting_within_the_bound_decodes():
    # the envelope is one level, the body a second, field "x" holds the rest
    assert envelope.decode(_nested(envelope.MAX_DEPTH - 2)).body["x"]


@pytest.mark.parametrize("field, value", [
    ("seq", 2**64), ("seq", envelope.MAX_INT + 1), ("at", "0001-01-01T00:00:00+05:00"),
    ("at", "9999-12-31T23:59:59-05:00"), ("at", "1969-12-31T23:59:59Z"),
])
def test_out_of_range_numbers_and_times_are_refused(field, value):
    raw = _valid() | {field: value}
    with pytest.raises(InvalidMessage) as err:
        envelope.decode(json.dumps(raw).encode())
    assert err.value.code == "envelope_invalid"


def test_the_largest_seq_still_fits_sqlite():
    import sqlite3

    env = envelope.decode(json.dumps(_valid() | {"seq": envelope.MAX_INT}).encode())
    assert sqlite3.connect(":memory:").execute("SELECT ?", (env.seq,)).fetchone() == (env.seq,)
