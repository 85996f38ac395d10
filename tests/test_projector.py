"""What devices see is projected once, at the end of the transaction that changed it: never
before, never for a change rolled back, and in the same commit as the change."""

import msgspec
import pytest

from central import datasets
from central.circulation import closed_days, patrons, projector, sites
from edge_common.cardid import card_hash
from edge_common.protocol.datasets import ALLOWLIST, CALENDAR, AllowEntry
from tests.circ import library, patron


def _versions(s, dataset: str = ALLOWLIST, site: str = "center") -> int:
    return s.scalar("SELECT count(*) FROM dataset_deltas WHERE site = ? AND dataset = ?",
                    [site, dataset])


def _listed(s, key: bytes, uid: str) -> AllowEntry | None:
    rows = dict(datasets.pull(s.db, "center", ALLOWLIST, 0, "", 10_000).changes)
    value = rows.get(card_hash(key, uid))
    return None if value is None else msgspec.json.decode(bytes(value), type=AllowEntry)


@pytest.fixture
def holder(central_db):
    """A library with one keyed site and a card holder: (store, site key, patron id), on each
    store."""
    s = library(central_db)
    key = bytes.fromhex(sites.open_site(s.db, "center"))
    pid = patron(s, "Kos")
    patrons.add_card(s, pid, "04AA0001")
    return s, key, pid


def test_a_transaction_lists_each_changed_patron_once_at_its_end(holder):
    s, key, pid = holder
    before = _versions(s)
    with s.atomic():
        patrons.set_blocked(s, pid, True, "legal action")
        patrons.update(s, pid, category="student")
        patrons.set_blocked(s, pid, False)
        patrons.set_blocked(s, pid, True, "again")
        assert _versions(s) == before             # nothing is projected half way
    assert _versions(s) == before + 1             # one version for all four changes
    listed = _listed(s, key, "04AA0001")
    assert (listed.category, listed.blocked) == ("student", True)


def test_a_change_rolled_back_is_never_listed(holder):
    s, key, pid = holder
    before = _versions(s)
    with pytest.raises(RuntimeError), s.atomic():
        patrons.set_blocked(s, pid, True, "legal action")
        raise RuntimeError("the rest of the transaction failed")
    assert _versions(s) == before
    assert _listed(s, key, "04AA0001").blocked is False
    with s.atomic():                              # nothing of it lingers for the next one
        s.update("patrons", pid, {"note": "seen"})
    assert _versions(s) == before


def test_a_projection_that_fails_undoes_its_change(holder, monkeypatch):
    s, key, pid = holder

    def broken(db, changes):
        raise OSError("disk full")
    monkeypatch.setattr(projector, "project", broken)
    with pytest.raises(OSError):
        patrons.set_blocked(s, pid, True, "legal action")
    assert not patrons.patron(s, pid)["blocked"]  # a door can never disagree with central


def test_a_change_noted_outside_a_transaction_is_listed_at_once(holder):
    s, key, pid = holder
    s.update("patrons", pid, {"blocked": 1})
    before = _versions(s)
    s.patron_changed(pid)
    assert _versions(s) == before + 1
    assert _listed(s, key, "04AA0001").blocked is True


def test_a_card_taken_away_and_given_back_in_one_transaction_stays_listed(holder):
    s, key, pid = holder
    with s.atomic():
        patrons.remove_card(s, "04AA0001")
        patrons.add_card(s, pid, "04AA0001")
    assert _listed(s, key, "04AA0001") is not None
    with s.atomic():
        patrons.remove_card(s, "04AA0001")
    assert _listed(s, key, "04AA0001") is None


def test_a_library_wide_calendar_change_reaches_every_branch_once(holder):
    s, _, _ = holder
    branches = [b for (b,) in s.db.execute("SELECT id FROM branches")]
    before = {b: _versions(s, CALENDAR, b) for b in branches}
    with s.atomic():
        s.calendar_changed("center")
        s.calendar_changed(None)
        s.calendar_changed("siska")
        s.db.execute("INSERT INTO closed_days VALUES ('', '2026-12-31', 'New Year''s Eve')")
    assert {b: _versions(s, CALENDAR, b) for b in branches} == {b: n + 1
                                                               for b, n in before.items()}
    assert all("2026-12-31" in closed_days.of_branch(s.db, b) for b in branches)
