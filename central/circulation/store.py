"""The store interface the circulation domain works through: rows, transactions, clock, caches."""

import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from central.circulation import calendar, projector, settings
from central.circulation.changes import Changes
from central.circulation.clock import Clock, SystemClock
from central.circulation.errors import NotFound, Refused
from central.database import Conflict, Database

CACHE_SECONDS = 30.0
PERSONAL = ("patrons", "cards", "card_hashes", "debts", "payments", "loans", "holds", "notices",
            "forms", "form_archive", "audit", "processed", "access_log", "access_visits")
T = TypeVar("T")


class Store:
    """Central's database as the domain sees it, with the clock and short-lived caches.

    What devices see is never refreshed by a rule: a rule notes what it changed
    (`patron_changed`, `title_changed`, ...), and the outermost `atomic` block projects all of
    it once, just before it commits (`projector`).
    """

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self._cache: dict[Hashable, tuple[float, Any]] = {}
        self._depth = 0
        self._changes = Changes()

    @contextmanager
    def atomic(self) -> Iterator["Store"]:
        """A write transaction that waits for a busy writer, or a savepoint inside the
        caller's (`writing`); the outermost block projects what it changed before it ends."""
        with self.db.transaction():
            self._depth += 1
            try:
                yield self
            except BaseException:
                if self._depth == 1:    # rolled back: nothing of it is projected
                    self._changes = Changes()
                raise
            else:
                if self._depth == 1 and self._changes:
                    changes, self._changes = self._changes, Changes()
                    projector.project(self.db, changes)
            finally:
                self._depth -= 1

    def _noted(self) -> None:
        """A change noted outside any transaction is projected at once."""
        if not self._depth:
            with self.atomic():
                pass

    def patron_changed(self, patron_id: int) -> None:
        """The patron's cards are listed anew (their status, category, debt, agreement...)."""
        self._changes.patrons.add(patron_id)
        self._noted()

    def card_withdrawn(self, uid: str) -> None:
        """The card leaves every site's list (a card removed)."""
        self._changes.withdrawn.add(uid)
        self._noted()

    def title_changed(self, title_id: int, left: tuple[str, ...] = ()) -> None:
        """The title's copies are listed anew where they may be returned, and at the branches
        `left` (a branch a copy just left)."""
        self._changes.titles.setdefault(title_id, set()).update(left)
        self._noted()

    def calendar_changed(self, branch: str | None) -> None:
        """The branch's closed days are published anew (None or "": every branch's)."""
        if branch:
            self._changes.calendars.add(branch)
        else:
            self._changes.every_calendar = True
        self._noted()

    def scrub(self) -> bool:
        """Leave what was just deleted in no earlier version the store keeps; False when that
        must wait. SQLite (secure_delete) zeroes freed pages, and the write-ahead log is copied
        in and emptied: False when a reader held it. PostgreSQL drops the dead rows of the
        tables that hold people (VACUUM) outside any transaction; its write-ahead log and
        archives are kept as the city's retention rules say."""
        if self.db.postgres:
            if self.db.in_transaction:
                return False
            self.db.execute(f"VACUUM {', '.join(PERSONAL)}")
            return True
        busy, _, _ = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy

    def row(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """The first row as a dict, or None."""
        cur = self.db.execute(sql, params)
        found = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], found, strict=True)) if found else None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """All rows as dicts."""
        cur = self.db.execute(sql, params)
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None."""
        found = self.db.execute(sql, params).fetchone()
        return found[0] if found else None

    def insert(self, table: str, values: dict[str, Any], returning: str = "") -> Any:
        """Insert one row; return its `returning` column (nothing when not asked)."""
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        tail = f" RETURNING {returning}" if returning else ""
        try:
            cur = self.db.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks}){tail}",
                                  list(values.values()))
        except Conflict as exc:
            raise conflict(table, values, exc) from None
        return cur.fetchone()[0] if returning else None

    def add(self, table: str, values: dict[str, Any]) -> int:
        """Insert one row of a table keyed by a number the store gives; return that `id`."""
        return cast(int, self.insert(table, values, returning="id"))

    def update(self, table: str, key: int | str, values: dict[str, Any],
               column: str = "id") -> None:
        """Update one row by key."""
        sets = ", ".join(f"{c} = ?" for c in values)
        self.db.execute(f"UPDATE {table} SET {sets} WHERE {column} = ?",
                          [*values.values(), key])

    def now(self) -> datetime:
        """Central's current time (UTC)."""
        return self.clock.now()

    def _cached(self, key: Hashable, make: Callable[[], T]) -> T:
        hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        value = make()
        self._cache[key] = (time.monotonic(), value)
        return value

    def forget(self) -> None:
        """Drop cached settings, branches and calendars after changing them."""
        self._cache.clear()

    @property
    def settings(self) -> settings.Settings:
        """The library's circulation settings."""
        return self._cached("settings", lambda: settings.load(self.db))

    def branch(self, branch_id: str) -> dict[str, Any]:
        """A branch's row, or NotFound."""
        found = self._cached(("branch", branch_id), lambda: self.row(
            "SELECT * FROM branches WHERE id = ?", [branch_id]))
        if found is None:
            self._cache.pop(("branch", branch_id), None)
            raise NotFound(f"no branch {branch_id!r}", code="branch_unknown")
        return found

    def today(self, branch_id: str, at: datetime | None = None) -> date:
        """Today's date where the branch is (or the date there at `at`)."""
        return (at or self.now()).astimezone(ZoneInfo(self.branch(branch_id)["tz"])).date()

    def calendar(self, branch_id: str) -> calendar.BranchCalendar:
        """The branch's open days around today (this year to two years ahead)."""
        year = self.today(branch_id).year
        return self._cached(("calendar", branch_id, year), lambda: calendar.load(
            self.db, branch_id, range(year - 1, year + 3)))

    def count(self, branch_id: str, kind: str, n: int = 1, at: datetime | None = None) -> None:
        """Add to a per-day statistic of the branch (of today, or of the day of `at`)."""
        self.db.execute(
            "INSERT INTO circ_counts VALUES (?, ?, ?, ?) ON CONFLICT (day, branch_id, kind)"
            " DO UPDATE SET count = circ_counts.count + excluded.count",
            (self.today(branch_id, at).isoformat(), branch_id, kind, n))


def conflict(table: str, values: dict[str, Any], exc: Conflict) -> Refused:
    """A refusal saying which value of a new row is taken (or missing), not the store's words."""
    if exc.unique:
        shown = ", ".join(f"{c} {values.get(c)!r}" for c in exc.columns)
        return Refused(f"{table}: {shown} is taken", code="already_exists")
    return Refused(f"{table}: {exc}", code="bad_value")
