"""Closed days from central's calendar reach the doors: staff close a day, the door refuses,
online and with the link cut; a branch's own calendar overrides the library's."""

import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from central import datasets
from central.admin_cli import admin
from central.circulation import branches, closed_days
from central.circulation.store import Store
from edge_common.protocol.datasets import CALENDAR, ClosedDay
from edge_common.readers import CardRead
from tests.harness import wait_for
from tests.locks import add_card, start_lock
from tests.proxy import Proxy

TZ = "Europe/Ljubljana"


def _today() -> date:
    return datetime.now(ZoneInfo(TZ)).date()


def _read(uid: str) -> CardRead:
    return CardRead(uid, "uid", "test", time.monotonic())


def _close_today(db_path, branch: str = "") -> None:
    """An administrator closes today with the CLI (library-wide, or the branch's own
    calendar)."""
    today = _today()
    CliRunner().invoke(admin, ["init", "--db", str(db_path), "--admin", "boss"])
    args = ["branch", "closed", "add", f"{today.isoformat()}=strike", "--db",
            str(db_path), "--staff", "boss"] + (["--branch", branch] if branch else [])
    done = CliRunner().invoke(admin, args)
    assert done.exit_code == 0, done.output


@pytest.fixture
def door(net, tmp_path):
    """A branch `main`, central, and a lock reaching the broker through a proxy that can cut."""
    branches.add_branch(Store(net.db), net.site, "Main", TZ)
    net.start_central()
    proxy = Proxy(net.broker.port)
    lock = start_lock(net, tmp_path, port=proxy.port)
    lock.proxy = proxy
    yield lock
    lock.stop()
    proxy.close()


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_a_day_closed_by_staff_closes_the_door_online_and_offline(net, door):
    add_card(net.db, "04A1B2C3", door)
    add_card(net.db, "04FF0001", door, staff=1)
    assert door.present("wc", _read("04A1B2C3")) == "granted"
    _close_today(net.store)
    wait_for(lambda: door.present("wc", _read("04A1B2C3")) == "closed_now",
             what="the door refuses on the closed day")
    door.proxy.cut("drop")
    wait_for(lambda: not door.runtime.link.connected, what="link cut")
    assert door.present("wc", _read("04A1B2C3")) == "closed_now"
    assert door.present("wc", _read("04FF0001")) == "granted"   # staff pass on closed days
    # staff reopen the day while the door is cut off: it stays closed until the link returns
    branches.set_closed_days(Store(net.db), _today().year, {})
    assert door.present("wc", _read("04A1B2C3")) == "closed_now"
    door.proxy.restore()
    wait_for(lambda: door.present("wc", _read("04A1B2C3")) == "granted",
             what="the door opens again once it hears the day was reopened")


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_a_branch_calendar_overrides_the_library_one_at_its_doors(net, door):
    add_card(net.db, "04A1B2C3", door)
    year = _today().year
    branches.set_closed_days(Store(net.db), year, {date(year, 1, 1): "new year"},
                             branch=net.site)   # the branch keeps its own calendar this year
    _close_today(net.store)                   # ...so a library-wide closing does not apply
    head = datasets.head(net.db, net.site, CALENDAR)
    wait_for(lambda: door.runtime.health().datasets[CALENDAR].version == head,
             what="calendar synced")
    assert door.present("wc", _read("04A1B2C3")) == "granted"
    _close_today(net.store, branch=net.site)
    wait_for(lambda: door.present("wc", _read("04A1B2C3")) == "closed_now",
             what="the branch's own closed day reaches its door")


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_each_branch_publishes_its_own_or_the_library_calendar(net):
    s = Store(net.db)
    branches.add_branch(s, "a", "A", TZ)
    branches.add_branch(s, "b", "B", TZ)
    branches.set_closed_days(s, 2026, {date(2026, 12, 25): "Christmas"})
    branches.set_closed_days(s, 2026, {date(2026, 12, 24): "inventory"}, branch="b")
    branches.set_closed_days(s, 2027, {date(2027, 1, 1): None})
    assert closed_days.of_branch(net.db, "a") == {"2026-12-25": ClosedDay(reason="Christmas"),
                                                  "2027-01-01": ClosedDay()}
    assert closed_days.of_branch(net.db, "b") == {"2026-12-24": ClosedDay(reason="inventory"),
                                                  "2027-01-01": ClosedDay()}
    published = datasets.pull(net.db, "b", CALENDAR, 0, "", 100)
    assert sorted(k for k, v in published.changes if v is not None) == ["2026-12-24",
                                                                         "2027-01-01"]
    head = datasets.head(net.db, "a", CALENDAR)
    branches.set_closed_days(s, 2026, {date(2026, 12, 25): "Christmas"})   # no change
    assert datasets.head(net.db, "a", CALENDAR) == head
    branches.drop_own_calendar(s, "b", 2026)            # b follows the library again
    assert "2026-12-25" in closed_days.of_branch(net.db, "b")
    page = datasets.pull(net.db, "b", CALENDAR, 0, "", 100)
    live = {k for k, v in page.changes if v is not None}
    assert live == {"2026-12-25", "2027-01-01"}
