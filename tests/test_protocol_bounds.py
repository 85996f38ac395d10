"""Every integer, string, list and map of the wire is declared with its bounds, and a value
past one, in any field of any message a device sends, is `bad_body` at central (never an
`internal_error` from deeper in, such as SQLite's integer overflow).

Both tests are generated from the declarations (msgspec's type info), so a new message type
or field is checked without a line here.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import msgspec.inspect as mi

from central import service  # noqa: F401 - every handler registers
from central.ingest import Applier, Message
from edge_common import envelope
from edge_common.protocol import MESSAGES
from edge_common.protocol.backbone import Ack, CentralPresence, DeviceResponse, DeviceStatus
from edge_common.protocol.commands import COMMANDS, Command
from edge_common.protocol.datasets import ROWS, SyncDelta, SyncPull
from tests.circ import START
from tests.test_fuzz import DEVICES, _library
from tests.wirefuzz import Gen

WIRE_LIMIT = 2**53
# What one side decodes from another: every body devices send, statuses, and what devices
# take from central (acks, responses, commands and their arguments, deltas and their rows).
# Central's answers inside a response are central's own output, built from its store.
DECLARED = sorted({m.body for m in MESSAGES.values()}
                  | {Ack, DeviceResponse, CentralPresence, DeviceStatus, Command, SyncDelta,
                     SyncPull}
                  | set(COMMANDS.values()) | set(ROWS.values()), key=lambda t: t.__name__)


def unbounded(t: mi.Type, where: str, seen: frozenset[type] = frozenset()) -> Iterator[str]:
    """Where in type `t` an integer, string, list or map has no bound (or one past the wire's)."""
    if isinstance(t, mi.IntType):
        lo = t.ge if t.ge is not None else t.gt
        hi = t.le if t.le is not None else t.lt
        if lo is None or hi is None or not -WIRE_LIMIT <= lo <= hi <= WIRE_LIMIT:
            yield f"{where}: int"
    elif isinstance(t, mi.StrType):
        if t.max_length is None and t.pattern is None:
            yield f"{where}: str"
    elif isinstance(t, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        if t.max_length is None:
            yield f"{where}: list"
        yield from unbounded(t.item_type, f"{where}[]", seen)
    elif isinstance(t, mi.DictType):
        if t.max_length is None:
            yield f"{where}: map"
        yield from unbounded(t.key_type, f"{where}{{key}}", seen)
        yield from unbounded(t.value_type, f"{where}{{}}", seen)
    elif isinstance(t, mi.TupleType):
        for n, item in enumerate(t.item_types):
            yield from unbounded(item, f"{where}[{n}]", seen)
    elif isinstance(t, mi.UnionType):
        for one in t.types:
            yield from unbounded(one, where, seen)
    elif isinstance(t, mi.StructType) and t.cls not in seen:
        for f in t.fields:
            yield from unbounded(f.type, f"{where}.{f.name}", seen | {t.cls})


def test_every_integer_string_list_and_map_on_the_wire_is_bounded():
    """Every declared type a process decodes from another, field by field, nested ones too."""
    found = [gap for t in DECLARED for gap in unbounded(mi.type_info(t), t.__name__)]
    assert found == []
    assert len(DECLARED) > 30


def past(t: mi.Type) -> Iterator[Any]:
    """Values of the JSON kind `t` takes that lie past its bounds: huge, negative and zero
    numbers, over-long text, NUL, control and direction-override characters, spaces only."""
    if isinstance(t, mi.UnionType):
        for one in t.types:
            yield from past(one)
    elif isinstance(t, mi.IntType):
        lo = t.ge if t.ge is not None else t.gt + 1
        hi = t.le if t.le is not None else t.lt - 1
        yield from (hi + 1, lo - 1, 2**63, 10**30, -(2**63) - 1)
    elif isinstance(t, mi.StrType):
        if t.max_length is not None:
            yield from {"x" * (t.max_length + 1), "x" * max(100_000, t.max_length + 1)}
        if t.pattern is not None:
            yield from ("a\x00b", "a\u202eb", "   ", "a\x07b")
    elif isinstance(t, mi.ListType | mi.VarTupleType) and t.max_length is not None:
        yield [None] * (t.max_length + 1)


def test_a_value_past_any_bound_of_any_body_is_bad_body_at_central(tmp_path):
    """Each field of each message type, given each value past its bounds, in a body otherwise
    valid: central answers (or rejects the event with) `bad_body` and applies nothing."""
    s, pools = _library(tmp_path)
    gen = Gen(seed=23, pools=pools)
    applier = Applier(s.db, clock=lambda: START + timedelta(hours=1))
    batch, cases = [], {}
    for message in MESSAGES.values():
        dev = DEVICES[sorted(message.senders or DEVICES)[0]]
        for field in mi.type_info(message.body).fields:
            for value in past(field.type):
                body = gen.body(message.body) | {field.encode_name: value}
                raw = envelope.encode(envelope.make(message.type, dev, body))
                env = envelope.decode(raw)
                cases[env.id] = f"{message.type}.{field.name}={str(value)[:20]!r}"
                batch.append(Message(dev, message.channel, env, raw,
                                     response_topic="r" if message.channel == "req" else None))
    assert len(batch) > 100
    out = applier.apply(batch)
    codes = {r.id: r.code for rs in out.rejected.values() for r in rs}
    codes |= {m.env.id: r.error.code for m, r in out.responses if r.error is not None}
    assert {cases[i]: codes.get(i, "ok") for i in cases if codes.get(i) != "bad_body"} == {}
    assert out.applied == 0 or not out.acks
