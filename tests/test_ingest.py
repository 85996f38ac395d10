"""Exactly-once application at central, without a broker."""

from contextlib import contextmanager
from datetime import UTC, datetime

import msgspec
import pytest

from central import access, datasets, fleet, sync_api  # noqa: F401 - registers handlers
from central.circulation import accounts, device_api, sites  # noqa: F401 - registers handlers
from central.circulation.store import Store
from central.handlers import REGISTRY, handler
from central.ingest import DEVICE_SECONDS, Applier, Message
from central.store import open_store
from edge_common import envelope, protocol
from edge_common.cardid import card_hash
from edge_common.errors import EdgeError
from edge_common.protocol.backbone import Rejected
from tests.circ import card_holder, copy, install

CARD = "c" * 64


@pytest.fixture
def db(central_db):
    """A central store with a door and a kiosk enrolled at the main site, on each store."""
    db = open_store(central_db, init=True)
    fleet.enrol(db, "lock-1", "main", "lockd")
    fleet.enrol(db, "kiosk-1", "main", "kiosk")
    return db


def msg(type, body, dev="lock-1", channel="evt", seq=1, **kw) -> Message:
    """A message from a device as central's worker receives it."""
    env = envelope.make(type, dev, body, seq=seq)
    return Message(dev, channel, env, envelope.encode(env), **kw)


def access_msg(seq=1, dev="lock-1"):
    """A door's access event."""
    return msg("access.decision", {"door": "d1", "card": CARD, "result": "granted"}, dev, seq=seq)


def count(db, table):
    """How many rows a table holds."""
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def kept(db) -> list[tuple[str, str]]:
    """The (code, message) of each refused event kept for the operator, oldest first."""
    return [tuple(r) for r in db.execute("SELECT code, message FROM rejected ORDER BY n")]


@contextmanager
def registered(message: protocol.Message, fn, read_only: bool = False):
    """A test handler for `message`, registered for the duration of the block."""
    handler(message, read_only=read_only)(fn)
    try:
        yield
    finally:
        del REGISTRY[message.type]


def test_duplicates_are_acked_not_reapplied(db):
    """Events sent again are acked again and leave no second row."""
    a = Applier(db)
    batch = [access_msg(i) for i in range(1, 4)]
    out = a.apply(batch)
    assert out.acks == {"lock-1": [m.env.id for m in batch]} and out.applied == 3
    out = a.apply(batch + batch[:1])
    assert out.duplicates == 4 and out.applied == 0
    assert out.acks["lock-1"] == [m.env.id for m in batch + batch[:1]]
    assert count(db, "access_log") == 3


def test_refused_message_is_rejected_with_code_and_kept(db):
    """Bad bodies, unknown types, wrong senders, strangers: refused with codes, kept once."""
    a = Applier(db)
    bad = msg("access.decision", {"door": "d1", "card": "raw-uid", "result": "granted"})
    unknown = msg("no.such", {})
    wrong_kind = msg("access.decision", {"door": "d", "card": CARD, "result": "granted"},
                     dev="kiosk-1")
    stranger = msg("access.decision", {"door": "d", "card": CARD, "result": "granted"},
                   dev="lock-9")
    out = a.apply([bad, unknown, wrong_kind, stranger, access_msg(5)])
    codes = {r.id: r.code for rs in out.rejected.values() for r in rs}
    assert codes == {bad.env.id: "bad_body", unknown.env.id: "type_unknown",
                     wrong_kind.env.id: "type_not_allowed", stranger.env.id: "device_unknown"}
    assert count(db, "rejected") == 4 and count(db, "access_log") == 1
    assert kept(db)[-1] == ("device_unknown", "device is not enrolled or was revoked")
    again = a.apply([bad])
    assert again.rejected["lock-1"][0].code == "bad_body" and count(db, "rejected") == 4


def test_dev_in_envelope_must_match_topic(db):
    """An envelope naming another device than its topic is refused as dev_mismatch."""
    m = access_msg()
    spoof = Message("kiosk-1", "evt", m.env, m.payload)
    out = Applier(db).apply([spoof])
    assert out.rejected["kiosk-1"][0].code == "dev_mismatch"
    assert kept(db) == [("dev_mismatch", "envelope dev differs from the topic")]


def test_a_worker_rereads_a_device_every_device_seconds_to_see_a_revocation(db):
    """A worker trusts what it read of a device for DEVICE_SECONDS (not a read per message);
    the first message after that sees a revocation made meanwhile and is refused."""
    ticks = [100.0]
    a = Applier(db, ticks=lambda: ticks[0])
    assert a.apply([access_msg(1)]).acks
    fleet.revoke(db, "lock-1")
    ticks[0] += DEVICE_SECONDS
    assert a.apply([access_msg(2)]).acks
    ticks[0] += 0.01
    refused = a.apply([access_msg(3)])
    assert refused.rejected["lock-1"][0].code == "device_unknown" and not refused.acks
    assert count(db, "access_log") == 2


def test_a_batch_interrupted_midway_leaves_nothing_and_the_worker_goes_on(db):
    """A worker stopped inside a batch (KeyboardInterrupt in a handler) undoes the whole batch
    and passes the interrupt on; the same worker then applies the batch when it comes again."""
    def stop(ctx, body):
        raise KeyboardInterrupt

    a = Applier(db)
    batch = [access_msg(1), msg("test.stop", {}), access_msg(2)]
    with registered(protocol.Message("test.stop", "evt", protocol.Body, protocol.Nothing), stop):
        with pytest.raises(KeyboardInterrupt):
            a.apply(batch)
    assert count(db, "access_log") == 0
    out = a.apply([batch[0], batch[2]])
    assert out.acks == {"lock-1": [batch[0].env.id, batch[2].env.id]}
    assert count(db, "access_log") == 2


def test_handler_failure_rolls_back_only_its_own_writes(db, caplog):
    """A refusing or crashing handler undoes only its own writes; the rest of the batch commits."""
    class Body(protocol.Body):
        fail: str

    def partial(ctx, body):
        ctx.db.execute("INSERT INTO patrons (category) VALUES ('adult')")
        if body.fail == "refuse":
            raise EdgeError("the test says no", code="test_refused")
        if body.fail == "crash":
            raise RuntimeError("bug")
        return None

    with registered(protocol.Message("test.partial", "evt", Body, protocol.Nothing), partial):
        out = Applier(db).apply([msg("test.partial", {"fail": "refuse"}),
                                 msg("test.partial", {"fail": "crash"}),
                                 msg("test.partial", {"fail": "no"}), access_msg(9)])
    assert [r.code for r in out.rejected["lock-1"]] == ["test_refused", "internal_error"]
    assert kept(db) == [("test_refused", "the test says no"),
                        ("internal_error", "central could not apply this message")]
    assert count(db, "patrons") == 1 and count(db, "access_log") == 1
    assert "bug" in caplog.text


def retried(m: Message) -> Message:
    """The same request sent again by its device: the same bytes, decoded afresh."""
    return Message(m.dev, m.channel, envelope.decode(m.payload), m.payload,
                   response_topic=m.response_topic)


def answers(out) -> dict[str, dict]:
    """The batch's responses by request id, as they go on the wire."""
    return {m.env.id: msgspec.json.decode(msgspec.json.encode(body)) for m, body in out.responses}


def test_request_retried_with_same_id_gets_stored_response(db):
    """A kiosk's checkout and payment sent twice with the same ids (say the first answers were
    lost): the retry gets the first answers as they were, and the loan and payment happen once."""
    lib = install(Store(db), branches=[("main", "Main Library")])
    copy(lib, "B1", "Alamut", "main")
    pid = card_holder(lib, "04A1B2C3D4", "Novak", "main")
    card = card_hash(bytes.fromhex(sites.open_site(db, "main")), "04A1B2C3D4")
    accounts.add_debt(lib, pid, "main", "fine", 250)
    lend = msg("loan.checkout", {"card": card, "item": "B1"}, dev="kiosk-1", channel="req",
               response_topic="r")
    pay = msg("payment.record", {"card": card, "amount": 300, "ref": "T-1"}, dev="kiosk-1",
              channel="req", response_topic="r")
    first = answers(Applier(db).apply([lend, pay]))
    assert [first[m.env.id]["re"] for m in (lend, pay)] == [lend.env.id, pay.env.id]
    assert first[lend.env.id]["ok"] and first[lend.env.id]["result"]["barcode"] == "B1"
    assert first[pay.env.id]["result"] | {"receipt": ""} == {
        "receipt": "", "to_credit": 50, "credit": 50, "owed": 0}
    accounts.add_debt(lib, pid, "main", "fine", 100)   # the account moves on before the retry
    again = Applier(db).apply([retried(lend), retried(pay)])
    assert answers(again) == first and again.duplicates == 2 and again.applied == 0
    assert count(db, "loans") == 1 and count(db, "payments") == 1
    assert accounts.owed(lib, pid) == 100 and accounts.credit(lib, pid) == 50


def test_read_only_requests_are_not_stored(db):
    """A read-only request is answered and leaves no processed row."""
    m = msg("sync.pull", {"dataset": "allowlist", "since": 0}, channel="req", response_topic="r")
    out = Applier(db).apply([m])
    assert out.responses[0][1].ok is True
    assert count(db, "processed") == 0


def test_pull_pages_cover_every_key_once(db):
    """Paging through a dataset's changes yields every key once, with its latest value."""
    with db.transaction():
        for i in range(25):
            datasets.record(db, "main", "ds", {f"k{i % 10}": {"i": i}})
        datasets.record(db, "main", "ds", {"k3": None})
    seen, since, after = {}, 0, ""
    while True:
        page = datasets.pull(db, "main", "ds", since, after, 4)
        for k, v in page.changes:
            seen[k] = v
        if not page.next:
            break
        since, after = page.next.since, page.next.after
    decoded = {k: None if v is None else msgspec.json.decode(bytes(v)) for k, v in seen.items()}
    assert page.head == 26
    assert decoded["k3"] is None and decoded["k5"] == {"i": 15} and len(decoded) == 10


def test_clock_is_injectable(db):
    """What a batch writes is dated by the Applier's clock."""
    fixed = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    Applier(db, clock=lambda: fixed).apply([access_msg()])
    assert db.execute("SELECT received_at FROM access_log").fetchone()[0] == fixed.isoformat()


def test_prune_forgets_old_ids_only(db):
    """Pruning forgets only ids received before the cut."""
    from datetime import timedelta

    from central.ingest import prune

    old = datetime(2026, 1, 1, tzinfo=UTC)
    Applier(db, clock=lambda: old).apply([access_msg(1)])
    Applier(db, clock=lambda: old + timedelta(days=100)).apply([access_msg(2)])
    assert prune(db, old + timedelta(days=10)) == 1
    assert count(db, "processed") == 1


def test_large_changes_become_small_consecutive_deltas(db):
    """A large change is split into consecutive deltas small enough for the wire."""
    with db.transaction():
        last = datasets.record(db, "main", "ds", {f"k{i}": {"i": i} for i in range(2500)})
    deltas = datasets.unpublished(db)
    assert last == 3 and [d.version for d in deltas] == [1, 2, 3]
    assert [len(d.changes) for d in deltas] == [1000, 1000, 500]
    assert max(len(envelope.encode(envelope.make("sync.delta", "c", {"changes": d.changes})))
               for d in deltas) < envelope.MAX_PAYLOAD
    page = datasets.pull(db, "main", "ds", 0, "", 10_000)
    assert len(page.changes) == 2500 and page.head == 3


class _Anything(protocol.Answer):
    value: object = None


@pytest.mark.parametrize("failure", ["recursion", "overflow", "unencodable", "deep_answer",
                                     "read_only_unencodable"])
def test_one_message_failing_anywhere_costs_only_itself(db, failure, caplog):
    """A handler raising RecursionError or OverflowError, or an answer that cannot be encoded,
    fails that message alone: the rest of the batch commits and is acked or answered. Sent
    again, a failed message that writes gets its stored refusal; a read-only one runs again."""
    class Body(protocol.Body):
        n: int = 0

    calls = []

    def deep() -> list:
        value: list = []
        for _ in range(100_000):
            value = [value]
        return value

    def run(ctx, body):
        calls.append(ctx.message_id)
        ctx.db.execute("INSERT INTO patrons (category) VALUES ('adult')")
        if failure == "recursion":
            raise RecursionError("maximum recursion depth exceeded")
        if failure == "overflow":
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        if failure == "deep_answer":
            return _Anything(value=deep())
        return _Anything(value=object())

    read_only = failure == "read_only_unencodable"
    bad_evt = msg("test.fail", {}, channel="evt")
    bad_req = msg("test.fail", {}, channel="req", response_topic="r")
    good = [access_msg(i) for i in range(1, 4)]
    pull = msg("sync.pull", {"dataset": "allowlist", "since": 0}, channel="req",
               response_topic="r")
    with registered(protocol.Message("test.fail", "req", Body, _Anything), run, read_only):
        out = Applier(db).apply([good[0], bad_evt, good[1], bad_req, pull, good[2]])
        retry = Applier(db).apply([bad_evt, bad_req])
    assert out.acks["lock-1"] == [m.env.id for m in good]
    assert out.rejected["lock-1"] == [Rejected(bad_evt.env.id, "internal_error")]
    answered = answers(out)
    assert answered[bad_req.env.id]["error"]["code"] == "internal_error"
    assert answered[pull.env.id]["ok"] is True
    assert count(db, "access_log") == 3 and count(db, "patrons") == 0
    assert "test.fail" in caplog.text
    assert out.applied == 3 + (0 if read_only else 2)
    assert (retry.duplicates, len(calls)) == ((0, 4) if read_only else (2, 2))
    assert answers(retry) == {bad_req.env.id: answered[bad_req.env.id]}
    assert retry.rejected == out.rejected
    again = Applier(db).apply(good)
    assert again.duplicates == 3 and count(db, "access_log") == 3


def _store_bytes(db) -> int:
    """The bytes the store's used pages take (on PostgreSQL: its live rows of refused events,
    since dead ones wait for the vacuum)."""
    if db.postgres:
        return db.execute("SELECT coalesce(sum(pg_column_size(r)), 0) FROM rejected r"
                          ).fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0] - db.execute(
        "PRAGMA freelist_count").fetchone()[0]
    return pages * db.execute("PRAGMA page_size").fetchone()[0]


def test_rejected_keeps_an_excerpt_and_a_digest_of_the_newest_only(db):
    """Refused events used to be kept whole and for ever; now the store grows by a bounded
    excerpt per kept row, past the cap the oldest go, and how many went is counted."""
    import hashlib

    from central import rejected

    a = Applier(db, keep_rejected=50)
    before = _store_bytes(db)
    sent = []
    for batch in range(10):
        bad = [msg("access.decision", {"door": "d", "card": CARD, "result": "granted",
                                       "x" * 20_000: batch * 100 + i}) for i in range(30)]
        a.apply(bad)
        sent += bad
    assert rejected.summary(db) == (50, 250)
    rows = db.execute("SELECT id, code, message, size, sha256, excerpt FROM rejected"
                      " ORDER BY n").fetchall()
    assert [r[0] for r in rows] == [m.env.id for m in sent[-50:]]
    for (_, code, message, size, sha, excerpt), m in zip(rows, sent[-50:], strict=True):
        assert code == "bad_body" and len(message) <= rejected.MESSAGE_CHARS
        assert size == len(m.payload) and sha == hashlib.sha256(m.payload).hexdigest()
        assert excerpt == m.payload[:rejected.EXCERPT_BYTES]
    growth = _store_bytes(db) - before
    assert growth < sum(len(m.payload) for m in sent) / 20, growth


def test_the_migration_keeps_old_rejected_rows_as_excerpts(tmp_path):
    """Refused events kept whole by an old store become excerpts with size and digest."""
    import hashlib

    from central.migrations import MIGRATIONS
    from edge_common.migrations import apply, open_db

    path = str(tmp_path / "old.db")
    old = open_db(path)
    apply(old, [m for m in MIGRATIONS if m[0] < "0009"])
    payload = b'{"v":1,' + b"y" * 5000 + b"}"
    old.execute("INSERT INTO rejected VALUES ('lock-1', 'a', 'access.decision', 'bad_body',"
                " 'no', ?, '2026-01-01')", [payload])
    old.conn.close()
    db = open_store(path)
    row = db.execute("SELECT n, id, size, sha256, excerpt FROM rejected").fetchone()
    assert row == (1, "a", len(payload), hashlib.sha256(payload).hexdigest(), payload[:256])


def test_libedge_status_shows_kept_and_dropped_rejections(db, tmp_path):
    """`libedge status` and `admin rejected` show kept and dropped refusals."""
    from click.testing import CliRunner

    from libedge_cli.main import cli

    Applier(db, keep_rejected=2).apply(
        [msg("access.decision", {"door": "d", "card": "raw", "result": "granted"})
         for _ in range(5)])
    path = db.target
    done = CliRunner().invoke(cli, ["status", "--db", path])
    assert done.exit_code == 0, done.output
    assert "refused events: 2 kept (the newest), 3 dropped" in done.output
    listed = CliRunner().invoke(cli, ["admin", "rejected", "--db", path])
    assert listed.exit_code == 0 and listed.output.count("bad_body") == 2, listed.output


def test_long_refusal_messages_are_cut_to_what_a_device_accepts(db):
    """A refusal's words are cut so the answer still decodes on a device."""
    from edge_common.protocol.backbone import DeviceResponse

    m = msg("sync.pull", {"dataset": "allowlist", "since": 0, "z" * 100_000: 1},
            channel="req", response_topic="r")
    answer = Applier(db).apply([m]).responses[0][1]
    response = msgspec.convert(msgspec.json.decode(msgspec.json.encode(answer)), DeviceResponse)
    assert response.error is not None and response.error.code == "bad_body"


def test_answers_and_refusals_keep_their_wire_shape(db):
    """Central encodes the `Response` Struct devices decode, and the bytes stay as they were
    when it was a hand-built mapping: an answer has no `error`, a refusal no `result`, and a
    replayed answer is byte for byte the first."""
    good = msg("sync.pull", {"dataset": "allowlist", "since": 0}, channel="req",
               response_topic="r")
    late = msg("access.decision", {"door": "d1", "card": CARD, "result": "granted"},
               channel="req", response_topic="r")
    bad = msg("access.decision", {"door": "d1"}, channel="req", response_topic="r")
    first = Applier(db).apply([good, late, bad]).responses
    wire = [msgspec.json.encode(body) for _, body in first]
    assert [list(msgspec.json.decode(b)) for b in wire] == [
        ["re", "ok", "result"], ["re", "ok", "result"], ["re", "ok", "error"]]
    assert wire[2] == (b'{"re":"%s","ok":false,"error":{"code":"bad_body","message":"%s"}}'
                       % (bad.env.id.encode(), first[2][1].error.message.encode()))
    again = Applier(db).apply([retried(late), retried(bad)]).responses
    assert [msgspec.json.encode(body) for _, body in again] == wire[1:]


def _counts(db) -> list[list[tuple]]:
    return [db.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall()
            for t in ("access_hours", "access_branch_hours", "access_places")]


@pytest.mark.parametrize("central_db", ["sqlite"], indirect=True)  # the oracle: SQLite's rebuild
def test_door_counts_are_settled_per_batch_and_leave_out_an_event_undone(db, monkeypatch):
    """A batch's door events are counted once, at its end; an event whose handler failed is
    in neither the log nor the counts, and what the counts say is what the log holds."""
    from central import access_counts

    def stay(db, site, room, entered, left):
        raise OSError("the disk failed while this event's stay was counted")
    events = [msg("access.decision", {"door": door, "room": "rr", "card": CARD,
                                      "result": result, "direction": direction}, seq=n)
              for n, (door, result, direction) in enumerate([
                  ("d1", "granted", "in"), ("d1", "granted", "in"), ("d2", "blocked", "in"),
                  ("d1", "granted", "out"), ("d2", "granted", "in")], start=1)]
    out = Applier(db).apply(events[:3])
    assert out.applied == 3 and db.execute(
        "SELECT count(*) FROM access_pending").fetchone()[0] == 0
    monkeypatch.setattr(access_counts, "stay", stay)
    out = Applier(db).apply(events[3:])
    assert [r.code for r in out.rejected["lock-1"]] == ["internal_error"]   # the exit
    assert count(db, "access_log") == 4
    settled = _counts(db)
    assert sum(n for *_, n in settled[0]) == 4
    access_counts.rebuild(db)                    # the counts, made afresh from the log
    assert _counts(db) == settled
