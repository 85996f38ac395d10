"""Branches, their rooms, opening hours and calendars, and the staff assigned to them."""

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from central.circulation import bounds
from central.circulation.calendar import LIBRARY
from central.circulation.errors import Forbidden, NotFound, Refused
from central.circulation.store import Store
from central.database import among
from edge_common import ids

ROLES = ("clerk", "cashier", "supervisor", "facilities", "admin")
WEEKDAYS = range(7)


def add_branch(s: Store, id: str, name: str, tz: str, **details: Any) -> None:
    """Create a branch (details: address, phone, email, post_office, signatory, ib_max_items);
    its id names the site in topics, so one off the id pattern is refused (IdRefused)."""
    ids.site(id)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:   # OSError: a name too long
        raise Refused(f"unknown time zone {tz[:64]!r}", code="tz_unknown") from exc
    if details.get("email"):
        bounds.check_email("email", details["email"])
    with s.atomic():
        s.insert("branches", {"id": id, "name": name, "tz": tz, **details})
        s.calendar_changed(id)
    s.forget()


def listed(s: Store) -> list[dict[str, Any]]:
    """Every branch (id, name, time zone), by id."""
    return s.rows("SELECT id, name, tz FROM branches ORDER BY id")


def add_room(s: Store, id: str, branch: str, name: str) -> None:
    """A store or reading room; each belongs to exactly one branch."""
    s.branch(branch)
    with s.atomic():
        s.insert("rooms", {"id": id, "branch_id": branch, "name": name})


def set_hours(s: Store, branch: str, hours: Mapping[int, tuple[str, str] | None], *,
              whole_week: bool = True) -> None:
    """Set the weekly opening hours (weekday 0 = Monday → (opens, closes) as HH:MM, None for
    closed): the whole week (days not given are closed) or only the days given."""
    s.branch(branch)
    if not set(hours) <= set(WEEKDAYS):
        raise Refused("weekdays are 0 (Monday) to 6", code="bad_weekday")
    for span in hours.values():
        if span is not None and not (_clock(span[0]) < _clock(span[1])):
            raise Refused(f"{span[0]}-{span[1]}: a day opens before it closes",
                          code="bad_hours")
    with s.atomic():
        days = None if whole_week else list(hours)
        s.db.execute(f"DELETE FROM opening_hours WHERE branch_id = ? AND {among('weekday', days)}",
                     [branch, *(days or ())])
        s.db.executemany("INSERT INTO opening_hours VALUES (?, ?, ?, ?)",
                           [(branch, w, *span) for w, span in sorted(hours.items()) if span])
    s.forget()


def _clock(text: str) -> int:
    """Minutes since midnight of an HH:MM time from 00:00 to 24:00, else bad_hours."""
    hours, colon, minutes = text.partition(":")
    if not (colon and len(hours) == 2 and len(minutes) == 2 and hours.isdigit()
            and minutes.isdigit()) or int(minutes) > 59 or int(hours) * 60 + int(minutes) > 1440:
        raise Refused(f"{text!r} is not a time of day (HH:MM)", code="bad_hours")
    return int(hours) * 60 + int(minutes)


def set_closed_days(s: Store, year: int, days: dict[date, str], branch: str = LIBRARY) -> None:
    """Set a year's closed days, library-wide (branch "") or as the branch's own calendar."""
    if branch:
        s.branch(branch)
    bounds.check_year(year)
    if any(d.year != year for d in days):
        raise Refused(f"every day must fall in {year}", code="bad_day")
    with s.atomic():
        s.db.execute("DELETE FROM closed_days WHERE branch_id = ? AND day LIKE ?",
                       [branch, f"{year}-%"])
        s.db.executemany("INSERT INTO closed_days VALUES (?, ?, ?)",
                           [(branch, d.isoformat(), why) for d, why in sorted(days.items())])
        if branch:
            s.db.execute("INSERT INTO calendars VALUES (?, ?) ON CONFLICT DO NOTHING",
                         [branch, year])
        s.calendar_changed(branch)
    s.forget()


def drop_own_calendar(s: Store, branch: str, year: int) -> None:
    """Let a branch follow the library-wide calendar again for a year."""
    with s.atomic():
        s.db.execute("DELETE FROM calendars WHERE branch_id = ? AND year = ?", [branch, year])
        s.db.execute("DELETE FROM closed_days WHERE branch_id = ? AND day LIKE ?",
                       [branch, f"{year}-%"])
        s.calendar_changed(branch)
    s.forget()


def add_staff(s: Store, id: str, name: str, role: str, branches: list[str]) -> None:
    """A staff account with a role, assigned to one or more branches."""
    if role not in ROLES:
        raise Refused(f"role must be one of {', '.join(ROLES)}", code="bad_role")
    for b in branches:
        s.branch(b)
    with s.atomic():
        s.insert("staff", {"id": id, "name": name, "role": role})
        s.db.executemany("INSERT INTO staff_branches VALUES (?, ?)", [(id, b) for b in branches])


def staff(s: Store, id: str) -> dict:
    """A staff account with its branches."""
    found = s.row("SELECT * FROM staff WHERE id = ?", [id])
    if found is None:
        raise NotFound(f"no staff account {id!r}", code="staff_unknown")
    found["branches"] = [b for (b,) in s.db.execute(
        "SELECT branch_id FROM staff_branches WHERE staff_id = ? ORDER BY branch_id", [id])]
    return found


def working_at(s: Store, staff_id: str, chosen: Collection[str] = ()) -> list[str]:
    """The branches a staff member acts at: the chosen ones, each assigned to them, or all
    their branches."""
    assigned = staff(s, staff_id)["branches"]
    for branch in chosen:
        s.branch(branch)
        if branch not in assigned:
            raise Forbidden(f"{staff_id} is not assigned to {branch}", code="branch_not_assigned")
    return list(chosen) or assigned


def acting_branch(s: Store, staff_id: str, required: bool = False) -> str | None:
    """Where a staff member acts when a command names no branch: the branch chosen at login
    while still theirs, else their only branch; else None (an administrator acts library-wide)
    or, when `required`, a refusal asking them to name it."""
    account = staff(s, staff_id)
    chosen, assigned = account["last_branch"], account["branches"]
    if chosen and (chosen in assigned or account["role"] == "admin"):
        return str(chosen)
    if len(assigned) == 1:
        return str(assigned[0])
    if required and account["role"] != "admin":
        raise Refused(f"{staff_id} works at several branches: name one with --branch",
                      code="branch_required")
    return None


def require_assigned(s: Store, staff_id: str, owning: Collection[str]) -> str:
    """The first of the branches owning a record that the staff member is assigned to (an
    administrator: any), else Forbidden: the owning branch decides (TextLib)."""
    account = staff(s, staff_id)
    for branch in owning:
        if branch in account["branches"] or account["role"] == "admin":
            return branch
    raise Forbidden(f"{staff_id} is not assigned to {' or '.join(owning)}, which owns it",
                    code="branch_not_assigned")


def require_admin(s: Store, staff_id: str) -> dict:
    """The staff account if it is an administrator (for library-wide changes), else Forbidden."""
    account = staff(s, staff_id)
    if account["role"] != "admin":
        raise Forbidden(f"{staff_id} ({account['role']}) may not do this", code="role_required")
    return account


def login(s: Store, staff_id: str, branch: str) -> list[str]:
    """Choose the branch to work at; refuse unassigned branches, warn when it changed."""
    account = staff(s, staff_id)
    if branch not in account["branches"] and account["role"] != "admin":   # admins: everywhere
        raise Forbidden(f"{staff_id} is not assigned to {branch}", code="branch_not_assigned")
    warnings = ["branch_changed"] if account["last_branch"] not in (None, branch) else []
    with s.atomic():
        s.update("staff", staff_id, {"last_branch": branch})
    return warnings


def require_role(s: Store, staff_id: str, branch: str, *roles: str) -> dict:
    """The staff account if assigned to the branch with one of `roles`, else Forbidden."""
    account = staff(s, staff_id)
    if branch not in account["branches"] and account["role"] != "admin":   # admins: everywhere
        raise Forbidden(f"{staff_id} is not assigned to {branch}", code="branch_not_assigned")
    if account["role"] not in roles:
        raise Forbidden(f"{staff_id} ({account['role']}) may not do this", code="role_required")
    return account
