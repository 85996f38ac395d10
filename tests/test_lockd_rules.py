"""Door decision tables and schedules: every reason code, midnight, DST, closed days."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.circulation.ages import age_on
from edge_common.access import GRANTED, Policy, Situation, decide
from edge_common.protocol.datasets import ALLOWLIST, AllowEntry, check_row
from lockd.schedule import Schedule

TODAY = date(2026, 11, 23)
MEMBER = {"cat": "adult", "blk": False, "exp": "2027-01-01", "staff": False, "age": [16, 18],
          "owe": False, "agr": True}


def situation(**kw) -> Situation:
    """What the door knows besides the card: an open door today, a fresh list, unless `kw`."""
    return Situation(**({"today": TODAY, "open_now": True, "list_age": 5.0} | kw))


@pytest.mark.parametrize("entry, policy, sit, reason", [
    (MEMBER, Policy(), situation(), GRANTED),
    (None, Policy(), situation(), "card_unknown"),
    (MEMBER | {"blk": True}, Policy(), situation(), "patron_blocked"),
    (MEMBER | {"blk": True, "staff": True}, Policy(), situation(), "patron_blocked"),
    (MEMBER | {"staff": True}, Policy(), situation(open_now=False), GRANTED),
    (MEMBER | {"staff": True}, Policy(staff_always=False), situation(open_now=False),
     "closed_now"),
    (MEMBER, Policy(), situation(open_now=False), "closed_now"),
    (MEMBER, Policy(categories=["student"]), situation(), "category_not_allowed"),
    (MEMBER | {"exp": "2026-11-22"}, Policy(), situation(), "membership_expired"),
    (MEMBER | {"exp": "2026-11-23"}, Policy(), situation(), GRANTED),
    (MEMBER | {"exp": None}, Policy(), situation(), GRANTED),
    (MEMBER | {"exp": "2026-11-22"}, Policy(require_valid_membership=False), situation(),
     GRANTED),
    (MEMBER | {"age": [16]}, Policy(min_age=18), situation(), "underage"),
    (MEMBER | {"age": [16]}, Policy(min_age=16), situation(), GRANTED),
    (MEMBER | {"age": []}, Policy(min_age=16), situation(), "underage"),
    (MEMBER, Policy(min_age=21), situation(), "underage"),   # not a threshold central sends
    (MEMBER | {"owe": True}, Policy(refuse_over_debt_limit=True), situation(),
     "debt_over_limit"),
    (MEMBER | {"owe": True}, Policy(), situation(), GRANTED),
    (MEMBER | {"agr": False}, Policy(require_agreement=True), situation(), "no_agreement"),
    (MEMBER | {"agr": False}, Policy(), situation(), GRANTED),
    (MEMBER, Policy(rate_limit_seconds=600), situation(since_last_grant=30.0), "rate_limited"),
    (MEMBER, Policy(rate_limit_seconds=600), situation(since_last_grant=601.0), GRANTED),
    (MEMBER, Policy(rate_limit_seconds=600), situation(since_last_grant=600.0), GRANTED),
    (MEMBER, Policy(anti_passback="refuse"), situation(inside=True), "passback"),
    (MEMBER, Policy(anti_passback="refuse"), situation(inside=True, entering=False), GRANTED),
    (MEMBER, Policy(max_list_age=3600), situation(list_age=3601.0), "list_stale"),
    (MEMBER, Policy(max_list_age=3600), situation(list_age=None), "list_stale"),
    (MEMBER, Policy(max_list_age=3600), situation(list_age=3600.0), GRANTED),
    (MEMBER, Policy(), situation(list_age=10**7), GRANTED),
])
def test_decision_table(entry, policy, sit, reason):
    """Each rule refuses with its own code, in order, and can be switched off."""
    row = None if entry is None else msgspec.convert(entry, AllowEntry)
    assert decide(row, policy, sit) == reason


@pytest.mark.parametrize("bad", [{"exp": "garbage"}, {"blk": "yes"}, {"owe": "lots"},
                                 {"cat": None}, {"age": 18}, {"age": [-1]}])
def test_a_malformed_row_never_reaches_a_door(bad):
    """A list row of the wrong shape is refused when it arrives."""
    with pytest.raises(ValueError):
        check_row(ALLOWLIST, MEMBER | bad)


@given(st.dictionaries(st.sampled_from(list(MEMBER)),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12))))
def test_any_entry_gets_a_reason_never_an_exception(changes):
    """Any well-typed row gets a code, and a blocked card is never granted."""
    try:
        row = msgspec.convert(MEMBER | changes, AllowEntry)
    except msgspec.ValidationError:
        return  # refused when the delta arrives (check_row), so no door decides on it
    reason = decide(row, Policy(min_age=18, refuse_over_debt_limit=True), situation())
    assert isinstance(reason, str)
    if reason == GRANTED:
        assert not row.blocked


@given(st.dates(max_value=date(9000, 1, 1)), st.integers(0, 120))
def test_age_is_whole_years_since_birth(born, years):
    """An age counts whole years, reached on the birthday."""
    if (born.month, born.day) == (2, 29):
        born = born - timedelta(days=1)
    birthday = born.replace(year=born.year + years)
    assert age_on(born, birthday) == years
    assert age_on(born, birthday - timedelta(days=1)) == years - 1


EVENING = {"windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "19:00",
                        "end": "23:00"},
                       {"days": ["sat"], "start": "22:00", "end": "02:00"}]}
LJ = ZoneInfo("Europe/Ljubljana")


def sched(**kw) -> Schedule:
    """The evening schedule (weekdays 19-23, Saturday 22-02), with `kw` replaced."""
    return msgspec.convert(EVENING | kw, Schedule)


def at(y, m, d, hh, mm, tz=LJ) -> datetime:
    """A local moment in Ljubljana (or `tz`)."""
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def never_closed(day):
    """A calendar without closed days."""
    return False


@pytest.mark.parametrize("moment, is_open", [
    (at(2026, 11, 23, 18, 59), False),
    (at(2026, 11, 23, 19, 0), True),
    (at(2026, 11, 23, 22, 59), True),
    (at(2026, 11, 23, 23, 0), False),
    (at(2026, 11, 28, 23, 30), True),     # Saturday window past midnight
    (at(2026, 11, 29, 1, 59), True),      # ...still Saturday's window on Sunday
    (at(2026, 11, 29, 2, 0), False),
    (at(2026, 11, 29, 22, 30), False),    # Sunday evening: no window
    (at(2026, 11, 23, 18, 30, UTC), True),  # 19:30 in Ljubljana
])
def test_windows_in_branch_time(moment, is_open):
    """Windows open at their start, close at their end, run past midnight, in branch time."""
    assert sched().is_open(moment, never_closed) is is_open


def test_closed_day_closes_windows_started_that_day():
    """A closed day closes the windows that started on it, also after midnight."""
    closed = {date(2026, 11, 28)}
    s = sched()
    assert not s.is_open(at(2026, 11, 28, 23, 0), closed.__contains__)
    assert not s.is_open(at(2026, 11, 29, 1, 0), closed.__contains__)
    assert s.is_open(at(2026, 11, 29, 1, 0), {date(2026, 11, 29)}.__contains__)
    assert sched(on_closed_days="open").is_open(at(2026, 11, 28, 23, 0), closed.__contains__)


def test_no_windows_means_always_except_closed_days():
    """A door without windows admits at any hour of an open day."""
    s = Schedule()
    assert s.is_open(at(2026, 11, 23, 3, 0), never_closed)
    assert not s.is_open(at(2026, 12, 25, 12, 0), {date(2026, 12, 25)}.__contains__)


def test_dst_changes_keep_local_windows():
    """Windows follow the local clock across both daylight-saving changes."""
    s = msgspec.convert({"windows": [{"days": ["sun"], "start": "01:00", "end": "04:00"}]},
                        Schedule)
    spring = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)   # 01:30 CET, then clocks jump 02:00→03:00
    assert s.is_open(spring, never_closed)
    assert s.is_open(spring + timedelta(hours=1), never_closed)   # 03:30 CEST
    assert not s.is_open(spring + timedelta(hours=2, minutes=31), never_closed)  # 05:01 CEST
    autumn = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, then 03:00→02:00
    assert s.is_open(autumn, never_closed)
    assert s.is_open(autumn + timedelta(hours=1), never_closed)   # 02:30 CET again
    assert not s.is_open(autumn + timedelta(hours=3), never_closed)  # 04:30 CET


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1),
                    timezones=st.just(UTC)))
def test_schedule_answer_matches_local_wall_clock(moment):
    """The schedule agrees with the local wall clock at any moment."""
    local = moment.astimezone(LJ)
    minute = local.hour * 60 + local.minute
    weekday = local.weekday()
    expected = (weekday < 5 and 19 * 60 <= minute < 23 * 60) or (
        weekday == 5 and minute >= 22 * 60) or (weekday == 6 and minute < 120)
    assert sched().is_open(moment, never_closed) is expected


@pytest.mark.parametrize("bad", [
    {"timezone": "Mars/Base"}, {"windows": [{"days": ["mon"], "start": "7:00", "end": "8:00"}]},
    {"windows": [{"days": [], "start": "07:00", "end": "08:00"}]},
    {"windows": [{"days": ["monday"], "start": "07:00", "end": "08:00"}]}, {"typo": 1},
])
def test_bad_schedules_are_refused(bad):
    """Unknown zones, bad times, empty or unknown days and unknown keys are refused."""
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(bad, Schedule)
