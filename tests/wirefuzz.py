"""Seeded, deterministic generators of wire input for the fuzz tests.

Valid bodies are made from the declarations themselves (msgspec's type info), so a new
message type is fuzzed without a line here; a new string pattern needs a sampler in
PATTERNS (the generator fails loudly until it has one). Bad input is made three ways: a
body or envelope field given an awkward value (integers at and past every bound, huge
strings, deep nesting, wrong types), fields dropped or added, and the encoded bytes mutated.
"""

import functools
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import msgspec.inspect as mi

from edge_common import ids

ULID_CHARS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEEP = "@@deep@@"  # a marker value replaced, in the encoded bytes, by deep nesting


def _word(rng: random.Random, first: str, rest: str, most: int) -> str:
    return rng.choice(first) + "".join(rng.choice(rest) for _ in range(rng.randint(0, most)))


LOWER, DIGITS = "abcdefghijklmnopqrstuvwxyz", "0123456789"
PATTERNS: dict[str, Callable[[random.Random], str]] = {
    r"^[0-9A-HJKMNP-TV-Z]{26}$": lambda rng: ulid(rng),
    r"^[0-9a-f]{64}$": lambda rng: f"{rng.getrandbits(256):064x}",
    r"^[a-z0-9][a-z0-9_-]{0,62}$": lambda rng: _word(rng, LOWER + DIGITS,
                                                     LOWER + DIGITS + "_-", 12),
    ids.ID_PATTERN: lambda rng: _word(rng, LOWER + DIGITS, LOWER + DIGITS + "-", 12),
    r"^[a-z][a-z0-9_.]{0,39}$": lambda rng: _word(rng, LOWER, LOWER + DIGITS + "_.", 12),
    r"^[a-z][a-z0-9_]{0,39}$": lambda rng: _word(rng, LOWER, LOWER + DIGITS + "_", 12),
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$": lambda rng: rng.choice(
        ["sl", "en", "cs", "hu", "zh", "de-AT", "sr-Latn"]),
}
TEXT = "abc XYZ 019 _-.:/\\\"'{}[]\n\t čšž ü 漢字 🙂 \u200b"


@functools.cache
def _info(struct: type[Any]) -> mi.StructType:
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    return info


def ulid(rng: random.Random) -> str:
    """A ULID from the generator (ulid.ULID() reads the clock and os.urandom)."""
    return rng.choice("01234567") + "".join(rng.choice(ULID_CHARS) for _ in range(25))


class Gen:
    """Makes valid and bad values, bodies, envelopes and payloads from one seed.

    `pools` maps a body field name to values worth using often (known cards, barcodes, ids),
    so that handlers get past "unknown card" into the domain.
    """

    def __init__(self, seed: int, pools: dict[str, list[Any]] | None = None) -> None:
        self.rng = random.Random(seed)
        self.pools = pools or {}

    # --- valid ------------------------------------------------------------------------

    def value(self, t: mi.Type, name: str = "") -> Any:
        """A valid JSON value of type `t` (for field `name`)."""
        rng = self.rng
        pool = self.pools.get(name)
        if pool and isinstance(t, mi.IntType | mi.StrType) and rng.random() < 0.7:
            return rng.choice(pool)
        if isinstance(t, mi.IntType):
            lo = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else -(2**53))
            hi = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else 2**53)
            return rng.choice([lo, hi, rng.randint(lo, min(hi, lo + 100)),
                               rng.randint(lo, hi)])
        if isinstance(t, mi.FloatType):
            lo = t.ge if t.ge is not None else (t.gt if t.gt is not None else -1e9)
            hi = t.le if t.le is not None else (t.lt if t.lt is not None else 1e9)
            return min(max(rng.uniform(lo, hi), lo + 1e-9), hi)
        if isinstance(t, mi.StrType):
            if t.pattern is not None:
                return PATTERNS[t.pattern](rng)
            most = min(t.max_length if t.max_length is not None else 40, 40)
            return "".join(rng.choice(TEXT)
                           for _ in range(rng.randint(t.min_length or 0, max(most, 1))))
        if isinstance(t, mi.BoolType):
            return rng.random() < 0.5
        if isinstance(t, mi.NoneType):
            return None
        if isinstance(t, mi.LiteralType):
            return rng.choice(t.values)
        if isinstance(t, mi.DateType):
            return (AT.date() + timedelta(days=rng.randint(-400, 400))).isoformat()
        if isinstance(t, mi.DateTimeType):
            return (AT + timedelta(seconds=rng.randint(-10**7, 10**7))).isoformat()
        if isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
            most = min(t.max_length if t.max_length is not None else 4, 4)
            return [self.value(t.item_type, name)
                    for _ in range(rng.randint(t.min_length or 0, max(most, t.min_length or 0)))]
        if isinstance(t, mi.TupleType):
            return [self.value(item) for item in t.item_types]
        if isinstance(t, mi.DictType):
            return {self.value(t.key_type): self.value(t.value_type)
                    for _ in range(rng.randint(0, 3))}
        if isinstance(t, mi.UnionType):
            return self.value(rng.choice(t.types), name)
        if isinstance(t, mi.StructType):
            return self.body(t.cls)
        if isinstance(t, mi.AnyType):
            return self.json()
        raise TypeError(f"no generator for {t!r}")

    def json(self, depth: int = 0) -> Any:
        """A small arbitrary JSON value."""
        rng = self.rng
        k = rng.randrange(6 if depth < 3 else 4)
        if k == 0:
            return None
        if k == 1:
            return rng.choice([0, 1, -1, 2**31, rng.randint(-10**6, 10**6)])
        if k == 2:
            return rng.choice(["", "x", "ok", "\u00e9"])
        if k == 3:
            return rng.random() < 0.5
        if k == 4:
            return [self.json(depth + 1) for _ in range(rng.randint(0, 3))]
        return {rng.choice(["a", "b", "door", "id"]): self.json(depth + 1)
                for _ in range(rng.randint(0, 3))}

    def body(self, struct: type[Any]) -> dict[str, Any]:
        """A valid body of a Struct: every required field, some of the optional ones."""
        info = _info(struct)
        return {f.encode_name: self.value(f.type, f.name) for f in info.fields
                if f.required or self.rng.random() < 0.5}

    def envelope(self, type: str, dev: str, body: Any, seq: int | None = None) -> dict[str, Any]:
        """A valid envelope (as JSON-ready dict) around `body`."""
        at = AT + timedelta(seconds=self.rng.randint(-86_400, 86_400))
        return {"v": 1, "id": ulid(self.rng), "type": type, "dev": dev, "at": at.isoformat(),
                "seq": self.rng.randint(0, 10**6) if seq is None else seq, "body": body}

    # --- bad --------------------------------------------------------------------------

    def bad(self) -> Any:
        """An awkward value: past a bound, huge, negative, zero, over-long, NUL, control or
        direction-override characters, spaces only, deeply nested, or of another type."""
        rng = self.rng
        return rng.choice([
            lambda: None, lambda: True, lambda: -1, lambda: 0, lambda: 2**53,
            lambda: 2**53 + 1, lambda: 2**63 - 1, lambda: 2**63, lambda: 2**64,
            lambda: -(2**63) - 1, lambda: 10**30, lambda: 1.5, lambda: -0.0, lambda: 1e308,
            lambda: "", lambda: "x" * rng.choice([1, 64, 65, 129, 2001, 50_000, 100_000]),
            lambda: "\u0000\u202e\ufeff", lambda: "9999-12-31", lambda: "0001-01-01",
            lambda: "   ", lambda: "a\x07b", lambda: "\u202eevil", lambda: "a\x00",
            lambda: [], lambda: {}, lambda: DEEP, lambda: [self.bad()],
            lambda: {"x" * rng.choice([1, 5000]): 1}, lambda: self.json(),
        ])()

    def mutate_body(self, body: dict[str, Any]) -> Any:
        """A body with one field given a bad value, a field dropped or one added."""
        rng = self.rng
        body = dict(body)
        k = rng.randrange(10)
        if k < 6 and body:
            body[rng.choice(list(body))] = self.bad()
        elif k < 8 and body:
            del body[rng.choice(list(body))]
        elif k < 9:
            body[rng.choice(["extra", "Card", "x" * 3000, ""])] = self.bad()
        else:
            return self.bad()
        return body

    def mutate_envelope(self, env: dict[str, Any]) -> dict[str, Any]:
        """An envelope with one field bad, dropped, or one added."""
        rng = self.rng
        env = dict(env)
        field = rng.choice(["v", "id", "type", "dev", "at", "seq", "body", "extra"])
        k = rng.randrange(3)
        if k == 0 and field in env:
            del env[field]
        elif field == "seq":
            env["seq"] = rng.choice([-1, 2**53 + 1, 2**63, 2**64, 10**40, "1", 1.5, None])
        elif field == "at":
            env["at"] = rng.choice(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
                                    "1969-12-31T23:59:59Z", "2300-01-01T00:00:00Z",
                                    "2026-01-01T00:00:00", "2026-02-30T00:00:00Z", "now", 0])
        elif field == "type":
            env["type"] = rng.choice(["no.such", "A.B", "x" * 65, "", 1, "status"])
        else:
            env[field] = self.bad()
        return env

    def mutate_bytes(self, raw: bytes) -> bytes:
        """The encoded bytes flipped, cut, spliced or filled with brackets."""
        rng = self.rng
        data = bytearray(raw)
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(data) + 1)
            k = rng.randrange(6)
            if k == 0 and data:
                data[min(pos, len(data) - 1)] = rng.randrange(256)
            elif k == 1:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            elif k == 2:
                del data[pos:pos + rng.randint(1, 16)]
            elif k == 3:
                del data[pos:]
            elif k == 4:
                data[pos:pos] = data[rng.randrange(len(data) + 1):][:rng.randint(1, 40)]
            else:
                n = rng.choice([10, 40, 1000, 20_000])
                data[pos:pos] = rng.choice([b"[", b'{"a":[']) * n
        return bytes(data)

    def encode(self, env: Any) -> bytes:
        """JSON bytes, with every DEEP marker nested a random depth."""
        raw = msgspec.json.encode(env)
        while b'"' + DEEP.encode() + b'"' in raw:
            n = self.rng.choice([5, 31, 33, 200, 1000, 50_000])
            raw = raw.replace(b'"' + DEEP.encode() + b'"', b"[" * n + b"]" * n, 1)
        return raw
