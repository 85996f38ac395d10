"""A small library for circulation tests: three branches, categories, titles, copies, patrons."""

from datetime import UTC, datetime

import pytest

from central.circulation import audit, basics, catalogue, patrons
from central.circulation import branches as branches_
from central.circulation.clock import FixedClock
from central.circulation.errors import CirculationError
from central.circulation.store import Store
from central.store import open_store

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Ljubljana
BRANCHES = [("center", "Central Library"), ("siska", "Šiška Library"),
            ("bezigrad", "Bežigrad Library")]


DESK = audit.Actor("desk", "center")   # a clerk at the centre's desk, for staff overrides


def install(s: Store, branches=BRANCHES) -> Store:
    """The basics and branches in an existing store, and a clerk (`desk`) working at each."""
    basics.install(s, range(2026, 2028))
    for id, name in branches:
        basics.add_branch(s, id, name)
    branches_.add_staff(s, "desk", "Desk", "clerk", [id for id, _ in branches])
    return s


def site_library(net, *copies: tuple[str, str]) -> Store:
    """The test network's store with the devices' branch and these (barcode, title) copies."""
    s = install(Store(net.db), branches=[(net.site, "Main Library")])
    for barcode, title in copies:
        copy(s, barcode, title, net.site)
    return s


def library(target) -> Store:
    """A fresh store at `target` (a file's path or a database's URL) with the basics, three
    branches and a fixed clock."""
    return install(Store(open_store(str(target), init=True), FixedClock(START)))


def copy(s: Store, barcode: str, title: str, branch: str = "center", category: str = "book",
         **extra) -> int:
    """A new title with one copy (or another copy when the title exists)."""
    title_id = s.scalar("SELECT id FROM titles WHERE title = ?", [title]) \
        or catalogue.add_title(s, title, "Author")
    return catalogue.add_item(s, barcode, title_id, category, branch, **extra)


def patron(s: Store, surname: str = "Novak", category: str = "adult", **extra) -> int:
    """An active patron of the centre who signed the registration form on paper there."""
    pid = patrons.add_patron(s, surname, category, branch="center", **extra)
    patrons.record_paper_form(s, pid, DESK)
    return pid


def card_holder(s: Store, uid: str, surname: str, branch: str, **extra) -> int:
    """An active adult patron of `branch` holding the city card `uid`, the form signed."""
    pid = patrons.add_patron(s, surname, "adult", branch=branch, **extra)
    patrons.record_paper_form(s, pid, audit.Actor("desk", branch))
    patrons.add_card(s, pid, uid)
    return pid



def refused(code: str, fn, *args, said: str | None = None, **kw) -> None:
    """Assert that `fn(*args, **kw)` is refused with `code` (and, given `said`, these words,
    which the staff tools show beside the code)."""
    with pytest.raises(CirculationError) as exc:
        fn(*args, **kw)
    assert exc.value.code == code
    assert said is None or str(exc.value) == said
