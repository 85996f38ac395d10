"""Dataset sync driven by plain callables: a fake central answers pulls, no broker."""

import msgspec
import pytest

from edge_common.datasync import PULL_PAGE, DataSync
from edge_common.errors import RemoteError, RequestTimeout
from edge_common.protocol import packed
from edge_common.protocol.datasets import ALLOWLIST, SYNC_PULL
from edge_common.replica import Replicas

LIST = "things"   # not a declared dataset: any object is a row


class FakeCentral:
    """Records what DataSync asks; the test answers each request by hand."""

    def __init__(self):
        self.asked: list[tuple[str, dict, object]] = []

    def ask(self, message, body, timeout, callback):
        """DataSync's `ask`: keep the request and its callback for `answer`."""
        assert message is SYNC_PULL
        self.asked.append((message.type, msgspec.structs.asdict(body), callback))

    def bodies(self) -> list[dict]:
        """The bodies of the requests asked so far."""
        return [body for _, body, _ in self.asked]

    def answer(self, changes, head, next=None, index=-1, packed_as=None):
        """Answer a pull (the last by default) with one page, in the JSON form, or packed
        (`packed_as`: the page's packed text)."""
        page = {"dataset": LIST, "changes": changes, "head": head, "next": next,
                "packed": packed_as}
        self.asked[index][2](SYNC_PULL.decode_answer(page), None)


@pytest.fixture
def sync(tmp_path):
    """A DataSync on a fresh replica file, with a fake central and a hand-driven clock."""
    replicas = Replicas(str(tmp_path / "replica.db"), clock=lambda: 1000.0)
    central = FakeCentral()
    counts = {"changed": 0, "invalid": 0}
    now = {"t": 0.0}
    s = DataSync("lock-1", replicas, [LIST], central.ask,
                 changed=lambda: counts.__setitem__("changed", counts["changed"] + 1),
                 invalid=lambda: counts.__setitem__("invalid", counts["invalid"] + 1),
                 check_interval=60.0, clock=lambda: now["t"])
    s.replicas, s.central, s.counts, s.now = replicas, central, counts, now
    yield s
    replicas.close()


def delta(version, changes):
    """A sync delta body for the test dataset."""
    return {"dataset": LIST, "version": version, "changes": changes}


def rows(sync, *keys):
    """The replica's stored rows (or None) for `keys`."""
    return [sync.replicas.get(LIST, k) for k in keys]


def test_deltas_apply_in_order_and_stale_ones_are_ignored(sync):
    """Deltas apply one after the other; a repeated or older one changes nothing and pulls
    nothing."""
    sync.delta(delta(1, [["a", {"n": 1}]]))
    sync.delta(delta(2, [["b", {"n": 2}], ["a", None]]))
    assert sync.versions() == {LIST: 2}
    assert rows(sync, "a", "b") == [None, b'{"n":2}']
    sync.delta(delta(2, [["a", {"n": 9}]]))   # a repeat
    sync.delta(delta(1, [["c", {"n": 9}]]))   # an old one
    assert sync.versions() == {LIST: 2} and rows(sync, "a", "c") == [None, None]
    assert sync.central.asked == [] and sync.counts == {"changed": 0, "invalid": 0}
    assert sync.replicas.synced_at(LIST) == 1000.0


def test_a_gap_pulls_since_our_version_and_ignores_deltas_meanwhile(sync):
    """A gap starts a pull from our version; deltas during the pull are ignored, later ones
    apply."""
    sync.delta(delta(1, [["a", {"n": 1}]]))
    sync.delta(delta(3, [["c", {"n": 3}]]))
    assert sync.central.bodies() == [{"dataset": LIST, "since": 1, "after": "",
                                      "limit": packed.PAGE, "format": 2}]
    sync.delta(delta(2, [["b", {"n": 2}]]))   # arrives while the pull is under way
    assert sync.versions() == {LIST: 1}
    sync.central.answer([["b", {"n": 2}], ["c", {"n": 3}]], 3)
    assert sync.versions() == {LIST: 3} and sync.counts["changed"] == 1
    assert rows(sync, "a", "b", "c") == [b'{"n":1}', b'{"n":2}', b'{"n":3}']
    sync.delta(delta(4, [["d", {}]]))
    assert sync.versions() == {LIST: 4} and len(sync.central.asked) == 1


def test_a_paged_pull_continues_with_next_and_applies_each_page(sync, monkeypatch):
    """A paged pull asks for pages of the device's page size, the next one after each, and
    applies rows page by page, the version with the last."""
    monkeypatch.setattr(packed, "PAGE", 2)
    sync.delta(delta(1, [["a", {"n": 1}]]))
    sync.delta(delta(5, []))
    assert sync.central.bodies()[-1]["limit"] == 2
    sync.central.answer([["b", {"n": 2}]], 5, next={"since": 1, "after": "b"})
    assert sync.central.bodies()[-1] == {"dataset": LIST, "since": 1, "after": "b",
                                         "limit": 2, "format": 2}
    assert rows(sync, "b") == [b'{"n":2}'] and sync.versions() == {LIST: 1}  # rows, no version
    sync.central.answer([["c", {"n": 3}]], 5)
    assert sync.versions() == {LIST: 5} and rows(sync, "a", "c") == [b'{"n":1}', b'{"n":3}']


def test_a_full_copy_from_zero_is_staged_then_swapped_in_at_once(sync):
    """A resync copies from 0 into a staging area and replaces the old copy only with the last
    page."""
    sync.delta(delta(1, [["old", {"n": 0}], ["k", {"n": 0}]]))
    sync.resync()
    assert sync.central.bodies()[-1]["since"] == 0
    sync.central.answer([["k", {"n": 1}], ["x", {"n": 1}]], 7, next={"since": 0, "after": "x"})
    assert rows(sync, "old", "k", "x") == [b'{"n":0}', b'{"n":0}', None]  # still the old copy
    assert sync.versions() == {LIST: 1}
    assert (sync.central.bodies()[-1]["since"], sync.central.bodies()[-1]["after"]) == (0, "x")
    sync.central.answer([["y", {"n": 2}]], 7)
    assert rows(sync, "old", "k", "x", "y") == [None, b'{"n":1}', b'{"n":1}', b'{"n":2}']
    assert sync.versions() == {LIST: 7} and sync.counts["changed"] == 1


def test_a_full_copy_started_again_forgets_the_pages_of_the_broken_one(sync):
    """A resync while a full copy is under way starts afresh: rows staged by the first copy
    never reach the replica."""
    sync.delta(delta(1, [["old", {"n": 0}]]))
    sync.resync()
    sync.central.answer([["gone", {"n": 1}]], 7, next={"since": 0, "after": "gone"})
    sync.resync()                                    # replaces the pull under way
    assert len(sync.central.asked) == 3 and sync.central.bodies()[-1]["after"] == ""
    sync.central.answer([["kept", {"n": 2}]], 8)
    sync.central.answer([["late", {"n": 3}]], 7, index=1)   # the broken copy's next page
    assert rows(sync, "old", "gone", "kept", "late") == [None, None, b'{"n":2}', None]
    assert sync.versions() == {LIST: 8}


def pull_at(sync, t: float) -> int:
    """Tick the sync at time `t` (its clock too); how many pulls it has asked so far."""
    sync.now["t"] = t
    sync.tick(t)
    return len(sync.central.asked)


def fail(sync) -> None:
    """The latest pull times out."""
    sync.central.asked[-1][2](None, RequestTimeout())


def test_failed_pulls_back_off_2_4_8_s_until_an_answer_or_central_resets_it(sync):
    """Each failure in a row doubles the wait before the next pull; an answer, or central
    coming back, starts again from 2 s."""
    assert pull_at(sync, 0.0) == 1
    fail(sync)
    assert (pull_at(sync, 1.9), pull_at(sync, 2.0)) == (1, 2)
    fail(sync)
    assert (pull_at(sync, 5.9), pull_at(sync, 6.0)) == (2, 3)
    fail(sync)
    assert (pull_at(sync, 13.9), pull_at(sync, 14.0)) == (3, 4)
    sync.central.answer([], 0)                       # nothing new: no change reported
    assert sync.counts["changed"] == 0
    sync.link_up()
    assert pull_at(sync, 14.5) == 5
    fail(sync)
    assert (pull_at(sync, 16.4), pull_at(sync, 16.5)) == (5, 6)
    fail(sync)
    sync.central_back()
    assert pull_at(sync, 16.6) == 7
    fail(sync)
    assert (pull_at(sync, 18.5), pull_at(sync, 18.6)) == (7, 8)


def test_the_link_or_central_coming_back_checks_at_the_very_next_tick(sync):
    """After the link or central comes back the next tick pulls, whenever it comes."""
    assert pull_at(sync, 0.0) == 1
    sync.central.answer([], 0)
    assert pull_at(sync, 0.1) == 1                   # the periodic check is a minute away
    sync.link_up()
    assert pull_at(sync, 0.2) == 2
    sync.central.answer([], 0)
    sync.central_back()
    assert pull_at(sync, 0.3) == 3


def test_malformed_deltas_are_counted_as_invalid_and_not_applied(sync):
    """Malformed deltas are counted as invalid; nothing of them is applied or pulled."""
    sync.delta(delta(1, [["a", {"n": 1}]]))
    for bad in (delta("2", []), delta(2, 3), {"dataset": "other", "version": 2, "changes": []},
                delta(2, [[1, 2, 3]]), delta(2, [["b", "not a row"]])):
        sync.delta(bad)
    assert sync.counts["invalid"] == 5
    assert sync.versions() == {LIST: 1} and rows(sync, "b") == [None]
    assert sync.central.asked == []


def test_a_failed_pull_is_retried_with_backoff_and_late_answers_are_ignored(sync):
    """A failed pull is retried after a backoff, afresh when central is back; a forgotten pull's
    late answer is ignored."""
    sync.tick(0.0)                                   # the first check pulls at once
    assert len(sync.central.asked) == 1
    sync.central.asked[0][2](None, RequestTimeout())
    sync.tick(1.0)
    assert len(sync.central.asked) == 1              # retry after 2 s, not before
    sync.tick(2.0)
    assert len(sync.central.asked) == 2
    sync.central_back()                              # central serves again: start afresh
    sync.tick(2.5)
    assert len(sync.central.asked) == 3
    sync.central.answer([["late", {}]], 9, index=1)  # the forgotten pull answers late
    assert rows(sync, "late") == [None]
    sync.central.answer([["k", {}]], 2)
    assert sync.versions() == {LIST: 2} and sync.counts["changed"] == 1
    sync.tick(30.0)
    assert len(sync.central.asked) == 3              # next periodic check at 62.5 s
    sync.tick(62.5)
    assert len(sync.central.asked) == 4


def test_rows_of_a_declared_dataset_are_checked_before_anything_is_applied(tmp_path):
    """A delta with one bad row of a declared dataset, or of a dataset not kept, applies nothing."""
    replicas = Replicas(str(tmp_path / "replica.db"))
    invalid = []
    sync = DataSync("lock-1", replicas, [ALLOWLIST], FakeCentral().ask,
                    invalid=lambda: invalid.append(1))
    good = {"cat": "adult", "blk": False}
    sync.delta({"dataset": ALLOWLIST, "version": 1,
                "changes": [["a", good], ["b", {"cat": "adult", "exp": "soon"}]]})
    sync.delta({"dataset": "calendar", "version": 1, "changes": [["2026-12-25", {}]]})
    assert replicas.version(ALLOWLIST) == 0 and replicas.get(ALLOWLIST, "a") is None
    assert len(invalid) == 2
    sync.delta({"dataset": ALLOWLIST, "version": 1, "changes": [["a", good]]})
    assert replicas.version(ALLOWLIST) == 1 and replicas.get(ALLOWLIST, "a")
    replicas.close()


def test_a_central_behind_this_copy_is_copied_afresh_and_its_next_versions_apply(sync):
    """Central answers a pull with a head below the version pulled from (it was restored from
    a backup): nothing of that page is applied, a full copy replaces the rows central never
    had, and central's next versions (numbers this copy had before) apply again."""
    sync.delta(delta(1, [["kept", {"n": 1}]]))
    sync.delta(delta(2, [["gone", {"n": 2}]]))
    sync.delta(delta(3, [["also gone", {"n": 3}]]))
    sync.pull(LIST)
    sync.central.answer([], 1)                   # restored: central is at version 1
    assert sync.central.bodies()[-1]["since"] == 0
    assert sync.versions() == {LIST: 3}          # nothing applied from the short answer
    sync.central.answer([["kept", {"n": 1}]], 1)
    assert sync.versions() == {LIST: 1}
    assert rows(sync, "kept", "gone", "also gone") == [b'{"n":1}', None, None]
    sync.delta(delta(2, [["kept", None]]))       # e.g. the card blocked after the restore
    assert rows(sync, "kept") == [None] and sync.versions() == {LIST: 2}


def test_a_packed_page_is_applied_and_a_bad_one_applies_nothing(sync):
    """Pages packed small apply as the JSON form does; one that does not unpack (bad base64,
    more than MAX_UNPACKED once inflated, a row that is no JSON object) applies nothing and
    the pull is asked again at the next check."""
    import base64
    import zlib

    sync.pull(LIST)
    bomb = base64.b64encode(zlib.compress(b"\0" * (packed.MAX_UNPACKED + 1))).decode()
    not_a_row = packed.pack(LIST, [("a", b"[1, 2]")])
    for bad in ("not base64!", bomb, not_a_row, packed.pack(LIST, [("a", b"{")])):
        sync.central.answer([], 4, packed_as=bad)
        assert sync.versions() == {LIST: 0} and rows(sync, "a") == [None]
        sync.pull(LIST)
    sync.central.answer([], 4, packed_as=packed.pack(LIST, [("a", b'{"n":1}'), ("b", None)]))
    assert sync.versions() == {LIST: 4} and rows(sync, "a", "b") == [b'{"n":1}', None]


def test_a_central_that_knows_only_the_json_form_is_asked_in_it(sync):
    """A central of an earlier release refuses `format` (bad_body): the same page is asked
    again in the JSON form, and so are later pulls, until central comes back (upgraded, it
    may be)."""
    sync.delta(delta(1, [["a", {"n": 1}]]))
    sync.delta(delta(3, []))
    sync.central.asked[-1][2](None, RemoteError("unknown field `format`", code="bad_body"))
    assert sync.central.bodies()[-1] == {"dataset": LIST, "since": 1, "after": "",
                                         "limit": PULL_PAGE, "format": 1}
    sync.central.answer([["b", {"n": 2}]], 3)
    assert sync.versions() == {LIST: 3}
    sync.pull(LIST)
    assert sync.central.bodies()[-1]["format"] == 1
    sync.central.answer([], 3)
    sync.central_back()
    sync.pull(LIST)
    assert sync.central.bodies()[-1]["format"] == 2


def test_the_next_page_is_asked_before_this_one_is_kept_and_forgotten_if_it_is_not(sync,
                                                                                 monkeypatch):
    """The next page is asked for first, so central makes it while the device writes this
    one; when writing fails, the next page's answer is ignored and nothing after the gap is
    kept."""
    sync.resync()
    sync.central.answer([["a", {}]], 5, next={"since": 1, "after": "a"})
    assert sync.central.bodies()[-1]["after"] == "a"

    asked_first = []

    def full(*_):
        asked_first.append(sync.central.bodies()[-1]["after"])
        raise OSError("disk full")

    monkeypatch.setattr(sync.replicas, "stage", full)
    with pytest.raises(OSError):
        sync.central.answer([["b", {}]], 5, next={"since": 2, "after": "b"})
    monkeypatch.undo()
    assert asked_first == ["b"]
    sync.central.answer([["c", {}]], 5)              # the page after the one lost
    assert sync.versions() == {LIST: 0} and rows(sync, "a", "c") == [None, None]


def test_a_packed_copy_is_taken_as_of_its_first_page_and_then_catches_up(sync):
    """A packed copy comes in key order, each page as central holds it then: the copy is
    taken as of the first page's head, and what changed meanwhile is pulled right after."""
    sync.resync()
    assert sync.central.bodies()[-1] == {"dataset": LIST, "since": 0, "after": "",
                                         "limit": packed.PAGE, "format": 2}
    sync.central.answer([], 5, next={"since": 0, "after": "a"},
                        packed_as=packed.pack(LIST, [("a", b'{"n":1}')]))
    sync.central.answer([], 7, packed_as=packed.pack(LIST, [("b", b'{"n":1}')]))
    assert sync.versions() == {LIST: 5} and sync.counts["changed"] == 1
    assert sync.central.bodies()[-1] == {"dataset": LIST, "since": 5, "after": "",
                                         "limit": packed.PAGE, "format": 2}
    sync.central.answer([["a", {"n": 2}], ["c", {"n": 3}]], 7)
    assert sync.versions() == {LIST: 7}
    assert rows(sync, "a", "b", "c") == [b'{"n":2}', b'{"n":1}', b'{"n":3}']


def test_a_packed_copy_broken_off_by_a_restart_starts_again_from_its_first_page(tmp_path):
    """A new door restarted in the middle of its first copy holds no list and no version,
    and copies again from the first page at its first check; the pages of the broken copy
    are never used."""
    path = str(tmp_path / "replica.db")
    replicas = Replicas(path)
    central = FakeCentral()
    sync = DataSync("lock-1", replicas, [LIST], central.ask)
    sync.tick(0.0)
    central.answer([], 6, next={"since": 0, "after": "b"},
                   packed_as=packed.pack(LIST, [("a", b'{"n":1}'), ("b", b'{"n":1}')]))
    replicas.close()                                  # the door stops here
    replicas = Replicas(path)
    assert replicas.rows(LIST) == [] and replicas.version(LIST) == 0
    central = FakeCentral()
    sync = DataSync("lock-1", replicas, [LIST], central.ask)
    sync.tick(0.0)
    assert central.bodies() == [{"dataset": LIST, "since": 0, "after": "", "limit": packed.PAGE,
                                 "format": 2}]
    central.answer([], 7, packed_as=packed.pack(LIST, [("c", b'{"n":2}')]))
    assert replicas.rows(LIST) == [("c", b'{"n":2}')] and replicas.version(LIST) == 7
    replicas.close()


def test_the_next_page_is_asked_before_this_one_is_unpacked_and_dropped_with_a_bad_one(
        sync, monkeypatch):
    """Central makes the next page while the device unpacks and checks this one; when this
    one turns out malformed, the copy is dropped: the next page's answer is ignored and the
    next check copies from the first page again."""
    sync.pull(LIST)
    asked_at_unpack = []
    unpack = packed.unpack

    def watched(dataset, text):
        asked_at_unpack.append(sync.central.bodies()[-1]["after"])
        return unpack(dataset, text)

    monkeypatch.setattr(packed, "unpack", watched)
    sync.central.answer([], 5, next={"since": 0, "after": "a"},
                        packed_as=packed.pack(LIST, [("a", b'{"n":1}')]))
    assert asked_at_unpack == ["a"]
    sync.central.answer([], 5, next={"since": 0, "after": "b"}, packed_as="not base64!")
    assert asked_at_unpack == ["a", "b"] and sync.central.bodies()[-1]["after"] == "b"
    sync.central.answer([], 5, packed_as=packed.pack(LIST, [("c", b'{"n":1}')]))
    assert sync.versions() == {LIST: 0} and rows(sync, "a", "c") == [None, None]
    assert pull_at(sync, 0.0) == 4 and sync.central.bodies()[-1]["after"] == ""
    sync.central.answer([], 6, packed_as=packed.pack(LIST, [("d", b'{"n":2}')]))
    assert sync.versions() == {LIST: 6} and rows(sync, "a", "d") == [None, b'{"n":2}']
