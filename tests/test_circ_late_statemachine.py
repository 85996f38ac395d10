"""Desk, kiosk and return box in any order, online and offline: events dated when they
happened reach central late and out of order, and the invariants hold after every step."""

import functools
import tempfile
from contextlib import suppress
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from central.circulation import accounts, alerts, holds, loans, patrons, reminders
from central.circulation.errors import CirculationError
from central.ingest import Message
from edge_common.cardid import card_hash
from tests.circ import card_holder, copy
from tests.late_events import LateLibrary
from tests.test_circ_money_books import check_books

ITEMS = ["X0", "X1"]    # two copies of one title
UIDS = ["04A1", "04B2", "04C3"]      # the third borrows nothing at first: free to hold
PER_DAY, CAP = 20, 1000          # the book rule of tests.circ's library, for every patron here
ZONE = ZoneInfo("Europe/Ljubljana")


@functools.cache
def _template() -> LateLibrary:
    """The library every example starts from (copied: a new one per example is slow)."""
    where = Path(tempfile.mkdtemp())
    lib = LateLibrary(where / "template.db")
    for barcode in ITEMS:
        copy(lib.s, barcode, "Alamut")
    for n, uid in enumerate(UIDS):
        card_holder(lib.s, uid, f"P{n}", "center")
    lib.close()
    return lib


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


class LateEvents(RuleBasedStateMachine):
    """A library whose kiosk and return box queue what they do and deliver it whenever."""

    @initialize()
    def setup(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.lib = LateLibrary(Path(self.tmp.name) / "c.db", like=_template())
        self.s = self.lib.s
        self.pids = [patrons.by_card_hash(self.s, "center", card_hash(self.lib.key, uid))["id"]
                     for uid in UIDS]
        for n, barcode in enumerate(ITEMS):             # every copy out from the first step
            loans.checkout(self.s, self.pids[n], barcode, "center")
        self.queued: list[tuple[Message, str]] = []     # an event and what it is
        self.ready_seen: dict[int, str] = {}

    def teardown(self):
        if hasattr(self, "lib"):
            self.lib.close()
            self.tmp.cleanup()

    @rule(p=st.sampled_from(range(len(UIDS))), item=st.sampled_from(ITEMS),
          via=st.sampled_from(["desk", "kiosk", "kiosk offline"]))
    def lend(self, p, item, via):
        if via == "desk":
            with suppress(CirculationError):
                loans.checkout(self.s, self.pids[p], item, "center")
        elif via == "kiosk":
            self._apply(self.lib.kiosk_checkout(UIDS[p], item), "loan")
        else:
            self.queued.append((self.lib.kiosk_loan(UIDS[p], item, self.s.now()), "loan"))

    @rule(item=st.sampled_from(ITEMS), via=st.sampled_from(["desk", "box", "box offline"]))
    def take_back(self, item, via):
        if via == "desk":
            with suppress(CirculationError):
                loans.checkin(self.s, item, "center")
        elif via == "box":
            self._apply(self.lib.box_checkin(item), "return")
        else:
            self.queued.append((self.lib.box_return(item, self.s.now()), "return"))

    @precondition(lambda self: any(kind == "return" for _, kind in self.queued))
    @rule(pick=st.integers(0, 7))
    def staff_empty_the_offline_box_at_the_desk(self, pick):
        items = [msg.env.body["item"] for msg, kind in self.queued if kind == "return"]
        with suppress(CirculationError):
            loans.checkin(self.s, items[pick % len(items)], "center")

    @precondition(lambda self: self.queued)
    @rule(pick=st.integers(0, 7))
    def a_queued_event_arrives(self, pick):
        self._apply(*self.queued.pop(pick % len(self.queued)))

    @rule(p=st.sampled_from(range(len(UIDS))), item=st.sampled_from(ITEMS))
    def place_hold(self, p, item):
        with suppress(CirculationError):
            holds.place(self.s, self.pids[p], item, "center")

    @rule(p=st.sampled_from(range(len(UIDS))))
    def renew_all(self, p):
        with suppress(CirculationError):
            loans.renew_all(self.s, self.pids[p])

    @rule(p=st.sampled_from(range(len(UIDS))), amount=st.integers(1, 300))
    def pay(self, p, amount):
        with suppress(CirculationError):
            accounts.pay(self.s, self.pids[p], "center", amount)

    @rule(hours=st.sampled_from([1, 7, 26, 24 * 8, 24 * 23]))
    def time_passes(self, hours):
        """Time goes by and the nightly jobs run: reminders with their fees, the hold purge."""
        self.lib.clock.advance(hours=hours)
        reminders.run(self.s)
        holds.purge_expired(self.s)

    def _apply(self, msg: Message, kind: str) -> None:
        """Deliver one event; a return closes only a loan open at its moment, at that moment."""
        at = min(msg.env.at, self.s.now()).isoformat()
        before = {r["id"]: r["returned_at"] for r in self.s.rows("SELECT * FROM loans")}
        assert self.lib.deliver(msg).applied == 1
        for loan in self.s.rows("SELECT * FROM loans"):
            if loan["id"] not in before:
                assert kind == "loan" and loan["out_at"] == at, loan
            elif loan["returned_at"] != before[loan["id"]]:
                assert kind == "return" and loan["returned_at"] == at, loan
                assert _t(loan["out_at"]) <= _t(at), loan

    def _rows(self, sql: str, params=()):
        return self.s.rows(sql, params) if hasattr(self, "s") else []

    @invariant()
    def an_item_is_in_one_loan_at_a_time(self):
        by_item: dict[int, list[dict]] = {}
        for loan in self._rows("SELECT * FROM loans ORDER BY out_at, id"):
            by_item.setdefault(loan["item_id"], []).append(loan)
        for item_loans in by_item.values():
            assert sum(loan["returned_at"] is None for loan in item_loans) <= 1
            for loan, after in zip(item_loans, item_loans[1:], strict=False):
                assert loan["returned_at"] is not None and \
                    _t(loan["returned_at"]) <= _t(after["out_at"]), (loan, after)
        for r in self._rows("SELECT i.status, count(l.id) AS n FROM items i LEFT JOIN loans l"
                            " ON l.item_id = i.id AND l.returned_at IS NULL GROUP BY i.id"):
            assert (r["status"] == "on_loan") == (r["n"] == 1), r

    @invariant()
    def no_loan_stays_open_past_a_return_the_box_took_after_it_began(self):
        for loan in self._rows("SELECT l.out_at, i.barcode FROM loans l JOIN items i"
                               " ON i.id = l.item_id WHERE l.returned_at IS NULL"):
            assert not [a for a in alerts.open_alerts(self.s, "center")
                        if a["code"] == "not_on_loan" and a["details"]["item"] == loan["barcode"]
                        and _t(a["details"]["at"]) > _t(loan["out_at"])], loan

    @invariant()
    def no_loan_is_closed_before_it_started(self):
        for loan in self._rows("SELECT * FROM loans WHERE returned_at IS NOT NULL"):
            assert _t(loan["out_at"]) <= _t(loan["returned_at"]), loan

    @invariant()
    def fines_are_counted_to_the_return_moment_and_no_fee_after_it(self):
        for loan in self._rows("SELECT * FROM loans WHERE returned_at IS NOT NULL"):
            back = _t(loan["returned_at"]).astimezone(ZONE).date()
            late = (back - date.fromisoformat(loan["due"])).days
            fined = self.s.scalar("SELECT coalesce(sum(amount), 0) FROM debts WHERE loan_id = ?"
                                  " AND kind = 'fine'", [loan["id"]])
            assert fined == min(max(late, 0) * PER_DAY, CAP), loan
            assert not self.s.rows("SELECT id FROM debts WHERE loan_id = ? AND kind = 'reminder'"
                                   " AND created_at > ?", [loan["id"], loan["returned_at"]])

    @invariant()
    def a_pickup_window_starts_when_central_made_the_hold_ready(self):
        cal = self.s.calendar("center") if hasattr(self, "s") else None
        for h in self._rows("SELECT * FROM holds WHERE ready_at IS NOT NULL"):
            if self.ready_seen.get(h["id"]) != h["ready_at"]:
                assert h["ready_at"] == self.s.now().isoformat(), h
                self.ready_seen[h["id"]] = h["ready_at"]
            made = _t(h["ready_at"]).astimezone(ZONE).date()
            assert h["pickup_by"] == cal.open_days_after(
                made, self.s.settings.pickup_days).isoformat(), h

    @invariant()
    def the_books_sum(self):
        for pid in getattr(self, "pids", []):
            check_books(self.s, pid)

LateEvents.TestCase.settings = settings(
    max_examples=80, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestLateEvents = LateEvents.TestCase
