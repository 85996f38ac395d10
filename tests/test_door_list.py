"""What a door list holds of a card's holder: age thresholds reached, not a birth date; and
the daily refresh that tells doors when a holder reaches one."""

from datetime import date, timedelta

import msgspec
import pytest

from central import datasets
from central.circulation import allowlist, patrons, sites
from edge_common.cardid import card_hash
from edge_common.protocol.datasets import ALLOWLIST
from tests.circ import library, patron
from tests.harness import wait_for


def _row(s, key: bytes, uid: str) -> dict:
    rows = dict(datasets.pull(s.db, "center", ALLOWLIST, 0, "", 10_000).changes)
    return msgspec.json.decode(bytes(rows[card_hash(key, uid)]))


def _holder(s, uid: str, born: date) -> int:
    pid = patron(s, "Kos", birth_date=born.isoformat())
    patrons.add_card(s, pid, uid)
    return pid


def test_a_holder_reaches_a_door_age_on_the_birthday_and_no_birth_date_travels(central_db):
    s = library(central_db)
    key = bytes.fromhex(sites.open_site(s.db, "center"))
    today = allowlist.door_day()
    turns_18 = today.replace(year=today.year - 18) if (today.month, today.day) != (2, 29) \
        else date(today.year - 18, 3, 1)
    with s.atomic():
        _holder(s, "04BB0001", turns_18 + timedelta(days=1))   # 18 tomorrow
        _holder(s, "04BB0002", date(1990, 5, 5))
        _holder(s, "04BB0003", today.replace(year=today.year - 10))
    assert _row(s, key, "04BB0001")["age"] == [16]
    assert _row(s, key, "04BB0002")["age"] == [16, 18]
    assert _row(s, key, "04BB0003")["age"] == []
    assert not {"dob", "birth_date", "debt"} & set(_row(s, key, "04BB0002"))
    tomorrow = today + timedelta(days=1)
    with s.atomic():
        assert allowlist.refresh_birthdays(s.db, today) == 0
        assert allowlist.refresh_birthdays(s.db, tomorrow) == 1
    assert _row(s, key, "04BB0001")["age"] == [16, 18]


def test_a_29_february_birthday_counts_on_1_march_in_other_years(central_db):
    s = library(central_db)
    key = bytes.fromhex(sites.open_site(s.db, "center"))
    with s.atomic():
        _holder(s, "04BB0009", date(2008, 2, 29))
        assert allowlist.refresh_birthdays(s.db, date(2026, 2, 28)) == 0
        assert allowlist.refresh_birthdays(s.db, date(2026, 3, 1)) == 1
    assert _row(s, key, "04BB0009")["age"] == [16, 18]


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_central_republishes_who_reached_a_door_age_while_it_was_down(net):
    from central.circulation.store import Store
    from tests.circ import install

    s = install(Store(net.db), branches=[(net.site, "Main")])
    key = bytes.fromhex(net.card_key)
    recent = allowlist.door_day() - timedelta(days=1)
    birthday = date(recent.year, recent.month, min(recent.day, 28))   # within the last week
    born = birthday.replace(year=birthday.year - 18)
    pid = patrons.add_patron(s, "Kos", "adult", branch=net.site, birth_date=born.isoformat())
    patrons.add_card(s, pid, "04BB0010")
    with s.atomic():   # as published the day before the birthday, while central was down
        allowlist.refresh_patron(s.db, pid,
                                 allowlist.DoorRules.now(s.db, birthday - timedelta(days=1)))

    def ages() -> list:
        rows = dict(datasets.pull(net.db, net.site, ALLOWLIST, 0, "", 100).changes)
        return msgspec.json.decode(bytes(rows[card_hash(key, "04BB0010")]))["age"]

    assert ages() == [16]
    net.start_central()
    wait_for(lambda: ages() == [16, 18], what="central caught up the week's birthdays")


def test_a_catch_up_over_several_days_finds_each_day_s_holders_as_day_by_day_does(tmp_path):
    """Central's catch-up after a stop reads the patrons once for all the days it missed and
    finds the holders each day would have: a 29 February birthday on 1 March, the others on
    their day, none outside the days or short of a door age."""
    s = library(tmp_path / "c.db")
    sites.open_site(s.db, "center")
    with s.atomic():
        _holder(s, "04BB0021", date(2008, 2, 29))     # 18 on 1 March 2026
        _holder(s, "04BB0022", date(2008, 3, 3))      # 18 on 3 March
        _holder(s, "04BB0023", date(2010, 3, 2))      # 16 on 2 March
        _holder(s, "04BB0024", date(2009, 3, 2))      # 17 on 2 March: no door age
        _holder(s, "04BB0025", date(2008, 3, 9))      # 18 after the days caught up
    first, last = date(2026, 2, 27), date(2026, 3, 5)
    with s.atomic():
        day_by_day = sum(allowlist.refresh_birthdays(s.db, first + timedelta(days=n))
                         for n in range((last - first).days + 1))
        assert allowlist.refresh_birthdays(s.db, last, since=first) == day_by_day == 3
        assert allowlist.refresh_birthdays(s.db, date(2026, 3, 9), since=date(2026, 3, 6)) == 1
