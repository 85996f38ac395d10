"""Fuzzing every decoder and handler that takes bytes from outside (DESIGN §8), deterministically.

Seeded generators (tests/wirefuzz.py), not hypothesis: the same inputs on every run, and
over 100,000 of them for central in well under a minute. Central's part goes through
`envelope.decode` and `Applier` on a real SQLite store holding a small library, so the
circulation handlers get past "unknown card"; valid canary traffic runs in between and
must be applied exactly once. The device's part drives a real (unstarted) DeviceRuntime's
decoders: acks, responses, commands, sync deltas, central's presence. The config loader
gets mutated TOML.
"""

import gc
import logging
import random
import time
from collections import Counter
from datetime import datetime, timedelta, tzinfo
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest

from central import access, commands, datasets, fleet, sync_api  # noqa: F401 - handlers
from central.circulation import accounts, device_api, sites  # noqa: F401 - handlers
from central.circulation.store import Store
from central.config import CentralConfig
from central.ingest import Applier, Message
from central.store import open_store
from edge_common import envelope, runtime, topics
from edge_common.cardid import card_hash
from edge_common.config import DeviceSection, MqttConfig, OutboxConfig, load
from edge_common.errors import ConfigError, InvalidMessage
from edge_common.link import Incoming
from edge_common.protocol import DEVICE_KINDS, MESSAGES
from edge_common.protocol.backbone import Ack, CentralPresence, DeviceResponse
from edge_common.protocol.commands import Command
from edge_common.protocol.datasets import ROWS, Key, SyncDelta, SyncPage
from edge_common.protocol.doors import ACCESS_DECISION, AccessDecision
from edge_common.protocol.refusals import ALL, WIRE
from edge_common.runtime import DeviceRuntime
from kiosk.config import KioskConfig
from lockd.config import LockdConfig
from lockers.config import LockerConfig
from returnbox.config import ReturnboxConfig
from signpad.config import SignpadConfig
from tests.circ import START, card_holder, copy, install
from tests.wirefuzz import AT, Gen, ulid

SITE = "main"
KEY = "5e" * 32
CENTRAL_INPUTS = 100_000
DEVICE_INPUTS = 30_000
CONFIG_INPUTS = 4000
BATCH = 250
CANARY_EVERY = 20
DEVICES = {"lockd": "lock-1", "kiosk": "kiosk-1", "returnbox": "box-1", "signpad": "pad-1",
           "locker": "locker-1"}
STRANGERS = ["lock-9", "lock-r"]  # never enrolled; revoked
BEFORE_THE_HANDLER = {"dev_mismatch", "device_unknown", "type_unknown", "type_not_allowed",
                      "bad_body"}
UIDS = ["04A1B2C3D4", "04B2C3D4E5", "04C3D4E5F6", "04D4E5F6A7"]
KEY_TYPE = mi.type_info(Key)


def _library(tmp_path) -> tuple[Store, dict[str, list]]:
    """A store with one branch (the devices' site), copies, card holders and a debt; and the
    pools of values worth using often in bodies."""
    db = open_store(str(tmp_path / "central.db"))
    with db.transaction():  # a fixed card key, so the card hashes (and so the inputs) never vary
        db.execute("INSERT INTO site_keys VALUES (?, ?)", [SITE, KEY])
    key = sites.open_site(db, SITE)
    s = install(Store(db), branches=[(SITE, "Main Library")])
    barcodes = [f"B{i}" for i in range(1, 9)] + ["R1"]
    for code in barcodes[:-1]:
        copy(s, code, f"Title {int(code[1:]) % 3}", SITE)
    copy(s, "R1", "Dictionary", SITE, "reference")
    holders = [card_holder(s, uid, f"Holder{n}", SITE, email=f"h{n}@example.org")
               for n, uid in enumerate(UIDS)]
    accounts.add_debt(s, holders[0], SITE, "fine", 250)
    for kind, dev in DEVICES.items():
        fleet.enrol(db, dev, SITE, kind)
    fleet.enrol(db, "lock-r", SITE, "lockd")
    fleet.revoke(db, "lock-r")
    ids = list(range(1, 12))
    pools = {"card": [card_hash(bytes.fromhex(key), uid) for uid in UIDS],
             "item": barcodes, "loans": ids, "debts": ids, "hold": ids, "title": [1, 2, 3],
             "ref": ["T-1", "T-2"], "dataset": ["allowlist", "calendar"], "since": [0, 1, 2],
             "door": ["wc", "main"], "room": ["wc"]}
    return s, pools


def _one(gen: Gen, seen: list[tuple[str, str, bytes]]) -> tuple[str, str, bytes]:
    """(topic device, channel, payload): valid, a bad body, a bad envelope, or bad bytes."""
    rng = gen.rng
    if seen and rng.random() < 0.02:
        return rng.choice(seen)  # a replay: the duplicate path
    message = rng.choice(list(MESSAGES.values()))
    kinds = sorted(message.senders or DEVICE_KINDS)
    dev = DEVICES[rng.choice(kinds)] if rng.random() < 0.9 else rng.choice(
        [*DEVICES.values(), *STRANGERS])
    channel = message.channel if rng.random() < 0.95 else rng.choice(["evt", "req"])
    body = gen.body(message.body)
    k = rng.random()
    if k < 0.3:
        env = gen.envelope(message.type, dev, body)
    elif k < 0.65:
        env = gen.envelope(message.type, dev, gen.mutate_body(body))
    else:
        env = gen.mutate_envelope(gen.envelope(message.type, dev, body))
    raw = gen.encode(env)
    if k >= 0.85:
        raw = gen.mutate_bytes(raw)
    return dev, channel, raw


def _canaries(gen: Gen, n: int) -> tuple[Message, Message]:
    """Valid traffic: an access event with its own card, and an allow-list pull."""
    event = envelope.Envelope(1, ulid(gen.rng), "access.decision", "lock-1", START, n, {
        "door": "wc", "card": f"cafe{n:060x}", "result": "granted"})
    pull = envelope.Envelope(1, ulid(gen.rng), "sync.pull", "kiosk-1", START, n,
                             {"dataset": "allowlist", "since": 0})
    return (Message("lock-1", "evt", event, envelope.encode(event)),
            Message("kiosk-1", "req", pull, envelope.encode(pull), "r"))


@pytest.fixture(autouse=True)
def collect_at_a_shallow_stack():
    """Deep payloads take msgspec's decoder to the recursion limit; a garbage collection that
    happens then runs unrelated finalizers with no stack left, which Python reports as an
    ignored exception (and pytest as a failure). Collect only at shallow points instead."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


@pytest.mark.parametrize("shard", [0, 1])
def test_central_fuzz_every_handler_and_canaries_still_apply_once(tmp_path, caplog, shard):
    """Half of CENTRAL_INPUTS per shard (the shards share the two workers): no exception,
    every input gets a stable code or an answer, no handler fails (internal_error), and the
    canary events and requests among them are applied exactly once and answered."""
    caplog.set_level(logging.ERROR)
    s, pools = _library(tmp_path)
    gen = Gen(seed=1000 + shard, pools=pools)
    applier = Applier(s.db, clock=lambda: START + timedelta(hours=1))
    codes: Counter[str] = Counter()
    canary_events: dict[str, str] = {}  # id → card
    canary_pulls: set[str] = set()
    handled: set[str] = set()  # message types that reached their handler
    seen: list[tuple[str, str, bytes]] = []
    inputs = 0
    started = time.monotonic()
    while inputs < CENTRAL_INPUTS // 2:
        batch: list[Message] = []
        for _ in range(BATCH):
            dev, channel, raw = _one(gen, seen)
            inputs += 1
            if len(seen) < 2000:
                seen.append((dev, channel, raw))
            try:
                env = envelope.decode(raw)
            except InvalidMessage as exc:
                assert exc.code in WIRE, exc.code
                codes[exc.code] += 1
                continue
            batch.append(Message(dev, channel, env, raw,
                                 response_topic="r" if channel == "req" else None))
            if inputs % CANARY_EVERY == 0:
                event, pull = _canaries(gen, len(canary_events))
                batch += [event, pull]
                canary_events[event.env.id] = event.env.body["card"]
                canary_pulls.add(pull.env.id)
        out = applier.apply(batch)
        gc.collect()   # here, with the stack shallow (see collect_at_a_shallow_stack)
        events = sum(m.channel == "evt" for m in batch)
        assert sum(map(len, out.acks.values())) + sum(map(len, out.rejected.values())) == events
        assert len(out.responses) == len(batch) - events
        types = {m.env.id: m.env.type for m in batch}
        outcomes = [(i, "ok") for ids in out.acks.values() for i in ids]
        outcomes += [(r.id, r.code) for rs in out.rejected.values() for r in rs]
        outcomes += [(m.env.id, "ok" if r.error is None else r.error.code)
                     for m, r in out.responses]
        for id, code in outcomes:
            codes[code] += 1
            if code not in BEFORE_THE_HANDLER:
                handled.add(types[id])
            if code != "ok":
                assert id not in canary_events and id not in canary_pulls, f"canary: {code}"
            canary_pulls.discard(id)
    elapsed = time.monotonic() - started
    assert set(codes) - {"ok"} <= ALL, set(codes) - ALL
    assert "internal_error" not in codes and not caplog.records, caplog.records[:3]
    assert not canary_pulls, "a canary request was not answered ok"
    assert handled == set(MESSAGES), set(MESSAGES) - handled
    logged = Counter(c for (c,) in s.db.execute(
        "SELECT card FROM access_log WHERE card LIKE 'cafe%'"))
    assert logged == Counter(canary_events.values()), "a canary event not applied exactly once"
    again = applier.apply([Message("lock-1", "evt", envelope.decode(p), p) for p in (
        envelope.encode(envelope.Envelope(1, i, "access.decision", "lock-1", START, 0, {
            "door": "wc", "card": c, "result": "granted"})) for i, c in canary_events.items())])
    assert again.duplicates == len(canary_events) and again.applied == 0
    print(f"central fuzz shard {shard}: {inputs} inputs in {elapsed:.1f} s; {dict(codes)}")
    assert codes["ok"] > CENTRAL_INPUTS // 100 and codes["nesting_too_deep"] > 100


def test_the_generator_is_deterministic():
    a, b = Gen(7), Gen(7)
    assert [_one(a, []) for _ in range(500)] == [_one(b, []) for _ in range(500)]


def test_every_declared_body_can_be_generated_and_is_valid():
    gen = Gen(3)
    for message in MESSAGES.values():
        for _ in range(50):
            message.decode_body(msgspec.json.decode(gen.encode(gen.body(message.body))))


def _device(tmp_path, monkeypatch, gen: Gen):
    """A real, unstarted kiosk runtime whose link says it is up and records what it sends;
    message ids come from the generator, so every run is the same."""
    class FixedDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> "FixedDatetime":
            return cls.fromisoformat(AT.isoformat())

    monkeypatch.setattr(envelope, "new_id", lambda: ulid(gen.rng))
    monkeypatch.setattr(runtime, "datetime", FixedDatetime)  # commands expire against AT
    device = DeviceSection(id="kiosk-1", site=SITE, kind="kiosk", card_key="ab" * 32,
                           data_dir=str(tmp_path / "kiosk-1"))
    rt = DeviceRuntime(device, MqttConfig(port=1), OutboxConfig(), version="fuzz",
                       datasets=["allowlist", "calendar"])
    sent: list[tuple[str, bytes]] = []
    rt.link.connected = True
    monkeypatch.setattr(rt.link, "publish",
                        lambda topic, payload, *a, **kw: sent.append((topic, payload)) or True)
    return rt, sent


def _device_body(gen: Gen, channel: str, rt, canary_ids: list[str]) -> tuple[str, Any]:
    """(topic kind, body) for a message to a device: an ack, a response, a command, a delta
    or central's presence, valid from the declarations or mutated."""
    rng = gen.rng
    if channel == "ack":
        body = gen.body(Ack)
        if canary_ids and rng.random() < 0.3:
            body["ids"] = [rng.choice(canary_ids)]  # an id central acks again
    elif channel == "res":
        body = gen.body(DeviceResponse)
        if body["ok"] and rng.random() < 0.7:
            body["result"] = gen.body(SyncPage)
    elif channel == "cmd":
        body = gen.body(Command)
    elif channel == "sync":
        body = gen.body(SyncDelta)
        dataset = rng.choice(sorted(ROWS))
        body["dataset"] = dataset
        body["changes"] = [[gen.value(KEY_TYPE), gen.body(ROWS[dataset])
                            if rng.random() < 0.8 else None] for _ in range(rng.randint(0, 3))]
        if rng.random() < 0.5:
            body["version"] = rt._replicas.version(dataset) + rng.choice([1, 1, 2, 0])
    else:
        body = gen.body(CentralPresence)
    return channel, body if rng.random() < 0.5 else gen.mutate_body(body)




def test_device_fuzz_decoders_and_valid_traffic_still_lands_once(tmp_path, monkeypatch, caplog):
    """Acks, responses, commands, deltas and central's presence, valid or bad, on a device's
    own decoders: nothing raises, nothing is logged as a failure, every bad one is counted,
    and the canary acks, responses and deltas among them each take effect once."""
    caplog.set_level(logging.ERROR)
    gen = Gen(seed=77)
    rt, sent = _device(tmp_path, monkeypatch, gen)
    topic = {"ack": topics.device("kiosk-1", "ack"), "res": topics.device("kiosk-1", "res"),
             "cmd": topics.device("kiosk-1", "cmd"), "presence": topics.central_status("c-1")}
    canaries = [rt.emit(ACCESS_DECISION, AccessDecision(door="wc", card=f"{n:064x}",
                                                        result="granted")) for n in range(200)]
    acked: list[str] = []
    answers: dict[str, list] = {}
    rows: dict[str, int] = {}
    applied: list[str] = []
    started = time.monotonic()
    for n in range(DEVICE_INPUTS):
        rng = gen.rng
        channel = rng.choice(["ack", "res", "cmd", "sync", "presence"])
        canary = n % CANARY_EVERY == 0
        if canary:
            k = n // CANARY_EVERY % 3
            if k == 0 and len(acked) < len(canaries):
                acked.append(canaries[len(acked)])
                channel, body = "ack", {"ids": [acked[-1]]}
            elif k == 1:
                rid = f"canary-{n}"
                rt.requester.requests.add(rid, time.monotonic() + 3600,
                                lambda result, error, rid=rid: answers.setdefault(
                                    rid, []).append((result, error)))
                channel, body = "res", {"re": rid, "ok": True, "result": {"n": n}}
            elif rt._replicas.version("allowlist") < envelope.MAX_INT:  # (a fuzzed page may
                version = rt._replicas.version("allowlist") + 1  # have set the highest one)
                rows[f"canary-{n}"] = version
                channel, body = "sync", {"dataset": "allowlist", "version": version,
                                         "changes": [[f"canary-{n}", {"cat": f"c{n}"}]]}
            else:
                canary = False
        if not canary:
            channel, body = _device_body(gen, channel, rt, acked)
        dataset = body.get("dataset") if isinstance(body, dict) else None
        where = topic.get(channel) or topics.sync(SITE, dataset if isinstance(dataset, str)
                                                  and dataset else "allowlist")
        raw = gen.encode(gen.envelope(rng.choice(["cmd", "ack", "response", "sync.delta"]),
                                      "central-1", body))
        if not canary and rng.random() < 0.15:
            raw = gen.mutate_bytes(raw)
        corr = body.get("re") if channel == "res" and isinstance(body, dict) else None
        if not canary and channel == "res" and rng.random() < 0.3:
            pending = sorted(i for i in rt.requester.requests._pending
                             if not i.startswith("canary"))
            corr = rng.choice(pending) if pending else corr
        inc = Incoming(where, raw, None, corr.encode() if isinstance(corr, str) else None, n, 1)
        if channel == "res":
            rt._post_message(inc)
        else:
            rt._message(inc)
        rt.coordinator.run_pending()  # what the coordinator would run next, on this thread
        if canary and channel == "sync":  # applied at once, unless a pull is fetching it anyway
            key = body["changes"][0][0]
            if rt.lookup("allowlist", key) is not None:
                applied.append(key)
            else:
                assert "allowlist" in rt._sync._pulling, f"delta {key} lost"
    elapsed = time.monotonic() - started
    assert not caplog.records, caplog.records[:3]
    assert rt.stats["invalid"] > DEVICE_INPUTS // 20
    left = {p.id for p in rt.sender.outbox.get(canaries)}
    assert left == set(canaries) - set(acked) and acked, "acked canaries must go, others stay"
    assert answers and all(len(a) == 1 and a[0][1] is None for a in answers.values())
    assert len(applied) > len(rows) // 10, (len(applied), len(rows))
    assert sent and all(envelope.decode(p).type == "sync.pull" for _, p in sent)  # its pulls
    print(f"device fuzz: {DEVICE_INPUTS} inputs in {elapsed:.1f} s; stats {rt.stats}")
    rt.stop()


TOML_TOKENS = ["[", "]", "{", "}", "=", '"', "'", "\n", ",", ".", "-1", "0", "28",
               "99999999999999999999", "inf", "nan", "-inf", "1e400", '"x"', "[[doors]]",
               "\\u0000", "\x00", "\u202e", "true", "1979-05-27T07:32:00Z", "[" * 600,
               "{a=" * 300, "a.b.c = 1", '"""', "'''", "#"]


def _mutate_toml(rng, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(text))
        k = rng.random()
        if k < 0.4:
            text = text[:pos] + rng.choice(TOML_TOKENS) + text[pos:]
        elif k < 0.6:
            text = text[:pos] + text[pos + rng.randint(1, 20):]
        else:
            lines = text.split("\n")
            j = rng.randrange(len(lines))
            if "=" in lines[j]:
                lines[j] = lines[j].split("=")[0] + "= " + rng.choice(TOML_TOKENS)
            text = "\n".join(lines)
    return text


def test_config_fuzz_mutated_toml_is_config_invalid_or_loads(tmp_path):
    """The example files, mutated: loading gives a config or ConfigError, nothing else, and
    the unmutated files (the valid traffic) still load between the bad ones."""
    central = (tmp_path / "central.toml")
    central.write_text('[central]\ndb = "c.db"\nbatch_max = 100\nkeep_rejected = 5\n\n'
                       '[mqtt]\nport = 1883\nreconnect_max = 5.0\n')
    files = {"deploy/lockd.example.toml": LockdConfig, "deploy/kiosk.example.toml": KioskConfig,
             "deploy/returnbox.example.toml": ReturnboxConfig,
             "deploy/signpad.example.toml": SignpadConfig,
             "deploy/locker.example.toml": LockerConfig, str(central): CentralConfig}
    texts = {path: open(path).read() for path in files}
    rng = random.Random(5)
    path = tmp_path / "fuzzed.toml"
    outcomes: Counter[str] = Counter()
    for n in range(CONFIG_INPUTS):
        example = rng.choice(sorted(files))
        path.write_bytes(_mutate_toml(rng, texts[example]).encode("utf-8", "surrogatepass"))
        try:
            load(path, files[example])
            outcomes["ok"] += 1
        except ConfigError as exc:
            assert exc.code == "config_invalid" and str(path) in str(exc)
            outcomes["config_invalid"] += 1
        if n % 100 == 0:
            load(example, files[example])
    assert outcomes["ok"] and outcomes["config_invalid"] > CONFIG_INPUTS // 2, outcomes
