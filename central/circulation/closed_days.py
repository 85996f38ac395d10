"""The `calendar` dataset: each branch's closed days, published to the devices of its site.

A year follows the branch's own calendar when it keeps one, else the library-wide one
(TextLib); doors refuse with `closed_now` on those days, online and offline.
"""


from central import datasets
from central.database import Database
from edge_common.protocol.datasets import CALENDAR, ClosedDay


def of_branch(db: Database, branch: str) -> dict[str, ClosedDay]:
    """The branch's closed days of every year on record, keyed by ISO date."""
    own = {y for (y,) in db.execute("SELECT year FROM calendars WHERE branch_id = ?", [branch])}
    rows = db.execute("SELECT branch_id, day, reason FROM closed_days WHERE branch_id IN (?, '')"
                      " ORDER BY day", [branch]).fetchall()
    return {day: ClosedDay(reason=reason) for source, day, reason in rows
            if (source == branch) == (int(day[:4]) in own)}


def publish(db: Database, branch: str) -> int | None:
    """Bring the branch's `calendar` dataset up to date (in the caller's transaction)."""
    return datasets.replace(db, branch, CALENDAR, of_branch(db, branch))


def publish_all(db: Database) -> None:
    """Bring every branch's `calendar` dataset up to date, e.g. after the library's changed."""
    for (branch,) in db.execute("SELECT id FROM branches ORDER BY id").fetchall():
        publish(db, branch)
