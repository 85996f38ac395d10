"""Random circulation across branches and days, the invariants checked after every step."""

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from central.circulation import accounts, holds, interbranch, loans, routing
from central.circulation.errors import CirculationError
from tests.circ import BRANCHES, copy, library, patron

SITES = [b for b, _ in BRANCHES]
ITEMS = [f"I{n}" for n in range(8)]
PATRONS = range(4)


class Circulation(RuleBasedStateMachine):
    """Checkouts, returns, renewals, holds, inter-branch loans and payments in any order."""

    @initialize()
    def setup(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.s = library(Path(self.tmp.name) / "c.db")
        for n, barcode in enumerate(ITEMS):
            copy(self.s, barcode, f"Title {n % 4}", SITES[n % 3],
                 "dvd" if n == 7 else "book")
        self.pids = [patron(self.s, f"P{n}") for n in PATRONS]

    def teardown(self):
        if hasattr(self, "s"):
            self.s.db.close()
            self.tmp.cleanup()

    def attempt(self, fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except CirculationError:
            return None

    @rule(p=st.sampled_from(PATRONS), item=st.sampled_from(ITEMS), site=st.sampled_from(SITES))
    def checkout(self, p, item, site):
        self.attempt(loans.checkout, self.s, self.pids[p], item, site)

    @rule(item=st.sampled_from(ITEMS), site=st.sampled_from(SITES))
    def checkin(self, item, site):
        self.attempt(loans.checkin, self.s, item, site)

    @rule(p=st.sampled_from(PATRONS), site=st.sampled_from(SITES))
    def renew_all(self, p, site):
        self.attempt(loans.renew_all, self.s, self.pids[p], branches=[site])

    @rule(p=st.sampled_from(PATRONS), item=st.sampled_from(ITEMS), site=st.sampled_from(SITES))
    def place_hold(self, p, item, site):
        self.attempt(holds.place, self.s, self.pids[p], item, site)

    @rule(hold=st.integers(1, 30))
    def cancel_hold(self, hold):
        self.attempt(holds.cancel, self.s, hold)

    @rule(p=st.sampled_from(PATRONS), item=st.sampled_from(ITEMS), site=st.sampled_from(SITES))
    def ib_request(self, p, item, site):
        self.attempt(interbranch.request, self.s, self.pids[p], item, site)

    @rule(ib=st.integers(1, 10))
    def ib_lend(self, ib):
        self.attempt(interbranch.lend, self.s, ib)

    @rule(p=st.sampled_from(PATRONS), site=st.sampled_from(SITES),
          amount=st.integers(1, 3000))
    def pay(self, p, site, amount):
        self.attempt(accounts.pay, self.s, self.pids[p], site, amount)

    @rule(days=st.integers(0, 40), hours=st.integers(0, 23))
    def time_passes(self, days, hours):
        self.s.clock.advance(days=days, hours=hours)
        holds.purge_expired(self.s)

    @invariant()
    def one_open_loan_per_item_and_status_agrees(self):
        if not hasattr(self, "s"):
            return
        rows = self.s.rows("SELECT i.barcode, i.status, count(l.id) AS n FROM items i"
                           " LEFT JOIN loans l ON l.item_id = i.id AND l.returned_at IS NULL"
                           " GROUP BY i.id")
        for r in rows:
            assert r["n"] <= 1
            assert (r["status"] == "on_loan") == (r["n"] == 1), r

    @invariant()
    def balance_is_debts_less_payments(self):
        if not hasattr(self, "s"):
            return
        for pid in self.pids:
            debts = self.s.scalar("SELECT coalesce(sum(amount), 0) FROM debts"
                                  " WHERE patron_id = ?", [pid])
            paid = self.s.scalar("SELECT coalesce(sum(amount), 0) FROM payments"
                                 " WHERE patron_id = ? AND deleted_at IS NULL", [pid])
            assert accounts.owed(self.s, pid) - accounts.credit(self.s, pid) == debts - paid
            assert accounts.credit(self.s, pid) >= 0

    @invariant()
    def hold_queues_are_in_placement_order(self):
        if not hasattr(self, "s"):
            return
        for h in self.s.rows("SELECT * FROM holds WHERE state = 'waiting'"):
            queue = routing.queue(self.s, h["title_id"], h["branch_id"])
            assert [q["placed_at"] for q in queue] == sorted(q["placed_at"] for q in queue)
            assert holds.position(self.s, h) == [q["id"] for q in queue].index(h["id"]) + 1

    @invariant()
    def other_branch_items_only_on_inter_branch_loans(self):
        if not hasattr(self, "s"):
            return
        assert not self.s.rows(
            "SELECT l.id FROM loans l JOIN items i ON i.id = l.item_id WHERE"
            " l.returned_at IS NULL AND i.home_branch != l.branch_id AND l.ib_loan_id IS NULL")

    @invariant()
    def due_dates_fall_on_open_days(self):
        if not hasattr(self, "s"):
            return
        for loan in self.s.rows("SELECT branch_id, due FROM loans WHERE returned_at IS NULL"):
            assert self.s.calendar(loan["branch_id"]).is_open(date.fromisoformat(loan["due"]))


Circulation.TestCase.settings = settings(
    max_examples=40, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestCirculation = Circulation.TestCase
