"""The access statistics page: numbers that match the access log, CSV that matches the page,
counts exact under late offline events, the migration of old rows, and bad filters refused."""

import csv
import io
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest
import sqlite_utils
from babel.dates import format_date

from central import access, access_counts, fleet  # noqa: F401 - registers the door handlers
from central.circulation import branches
from central.circulation.migrations import CIRCULATION_MIGRATIONS
from central.circulation.store import Store
from central.database import connect
from central.ingest import Applier, Message
from central.migrations import MIGRATIONS
from central.store import open_store
from edge_common import envelope
from edge_common.catalogues import BABEL_LOCALES
from edge_common.migrations import apply
from tests.web import WebServer, check_page, sign_in, signed_in_client, two_branches

TZ = ZoneInfo("Europe/Ljubljana")
START, END = date(2026, 11, 2), date(2026, 11, 22)
REASONS = ["blocked", "closed_now", "rate_limited"]


def _event(dev: str, seq: int, local: datetime, type: str, body: dict) -> Message:
    env = msgspec.structs.replace(envelope.make(type, dev, body, seq=seq),
                                  at=local.astimezone(UTC))
    return Message(dev, "evt", env, envelope.encode(env))


def _traffic(dev: str, room: str, door: str, rng: random.Random) -> list[tuple[datetime, dict]]:
    """A device's door events over the period, in the order it sends them."""
    made = []
    for d in range((END - START).days + 1):
        for _ in range(rng.randrange(5, 30)):
            local = datetime.combine(START + timedelta(days=d), datetime.min.time(), TZ) \
                + timedelta(hours=rng.randrange(7, 22), minutes=rng.randrange(60))
            card = f"{rng.randrange(12):064x}"
            result = rng.choice(["granted"] * 6 + REASONS)
            made.append((local, {"door": door, "room": room, "card": card, "result": result}))
            if result == "granted":
                made.append((local + timedelta(minutes=rng.randrange(1, 40)),
                             {"door": door, "room": room, "card": card, "result": "granted",
                              "direction": "out"}))
    made.sort(key=lambda e: e[0])
    return made


@pytest.fixture(scope="module")
def site(module_db):
    """A branch whose two doors' events were applied by central: one lock's as they happened,
    the other's (offline all period) only afterwards, late; on each store."""
    path = module_db
    s = two_branches(path)
    rng = random.Random(17)
    sent = {"lock-1": _traffic("lock-1", "reading-room", "rr-door", rng),
            "lock-2": _traffic("lock-2", "toilets", "wc", rng)}
    applier = Applier(s.db)
    for dev, events in sent.items():
        fleet.enrol(s.db, dev, "center", "lockd")
        batch = [_event(dev, i + 1, at, "access.decision", body)
                 for i, (at, body) in enumerate(events)]
        for i in range(0, len(batch), 50):
            applier.apply(batch[i:i + 50])
    server = WebServer(path)
    yield server, s, sent
    server.stop()
    s.db.close()


def _expected_heatmap(sent, door=None) -> Counter:
    """Entries per (weekday, hour) by the rule, from what the doors sent."""
    return Counter((at.weekday(), at.hour) for events in sent.values() for at, body in events
                   if body["result"] == "granted" and "direction" not in body
                   and door in (None, body["door"]))


def test_heatmap_matches_the_access_log_and_the_csv_matches_the_page(site, chromium, tmp_path):
    server, s, sent = site
    expected = _expected_heatmap(sent)
    logged = Counter()                                   # the raw access log, read by hand
    for at, result, direction in s.db.execute(
            "SELECT at, result, direction FROM access_log"):
        local = datetime.fromisoformat(at).astimezone(TZ)
        if result == "granted" and direction == "in":
            logged[(local.weekday(), local.hour)] += 1
    assert logged == expected
    page = chromium.page()
    sign_in(page, server.url, "fac")
    page.goto(f"{server.url}/stats?branch=center&start={START}&end={END}"
              "&compare_start=2026-10-12&compare_end=2026-11-01")
    check_page(page, "stats", tmp_path)
    shown = {(int(c.get_attribute("data-w")), int(c.get_attribute("data-h"))):
             int(c.get_attribute("data-n")) for c in page.locator("#heatmap td").all()}
    assert {k: n for k, n in shown.items() if n} == dict(expected)
    assert page.locator("#summary td").first.get_attribute("data-n") == str(
        sum(expected.values()))
    reasons = {r.get_attribute("data-reason"): r.locator("td").first.inner_text()
               for r in page.locator("#denials tbody tr").all()}     # words, the code beside
    assert reasons == {"rate_limited": "Too many entries rate_limited",
                       "closed_now": "Closed at this time closed_now",
                       "blocked": "Patron blocked blocked"}         # as locks said it before
    with page.expect_download() as download:
        page.click("#heatmap caption a.csv")
    rows = list(csv.reader(io.StringIO(open(download.value.path()).read())))
    assert rows[0][0] == "weekday" and len(rows) == 8
    assert {(int(r[0]), h): int(n) for r in rows[1:] for h, n in enumerate(r[1:]) if int(n)} \
        == dict(expected)
    page.context.close()


@pytest.mark.parametrize("lang,heading,too_many", [("sl", "Statistika dostopov", "Preveč vstopov"),
                                                  ("zh", "出入统计", "进入过于频繁")])
def test_pages_speak_the_chosen_language_with_its_dates(site, chromium, lang, heading, too_many):
    server, _, _ = site
    page = chromium.page()
    sign_in(page, server.url, "fac")
    page.goto(f"{server.url}/stats?branch=center&start={START}&end={END}&lang={lang}")
    assert page.locator("h1").inner_text() == heading
    first = format_date(START, "medium", locale=BABEL_LOCALES[lang])
    assert page.locator("#days tbody tr td").first.inner_text() == first
    assert page.locator("#denials tr[data-reason=rate_limited] td").first.inner_text() \
        == f"{too_many} rate_limited"
    page.goto(f"{server.url}/now")                              # the choice is kept
    assert page.locator("html").get_attribute("lang") == lang
    page.context.close()


def test_denials_visits_and_stays_follow_the_rule(site):
    server, s, sent = site
    events = [b | {"at": at} for evs in sent.values() for at, b in evs]
    denied = Counter(e["result"] for e in events if e["result"] != "granted")
    visits = len({(e["room"], e["at"].date(), e["card"]) for e in events
                  if e["result"] == "granted" and "direction" not in e})
    with signed_in_client(server, "fac") as client:
        base = f"/stats.csv?branch=center&start={START}&end={END}"
        reasons = dict(csv.reader(io.StringIO(client.get(base + "&table=denials").text)))
        assert {r: int(n) for r, n in reasons.items() if r != "reason"} == dict(denied)
        summary = dict(csv.reader(io.StringIO(client.get(base + "&table=summary").text)))
        assert int(summary["visits"]) == visits
        assert float(summary["average_stay_minutes"]) > 0
        days = list(csv.reader(io.StringIO(client.get(base + "&table=days").text)))
        assert len(days) == 1 + (END - START).days + 1


def test_two_periods_and_one_door(site):
    server, _, sent = site
    with signed_in_client(server, "fac") as client:
        week = client.get(f"/stats?branch=center&start={START}&end=2026-11-08"
                          "&compare_start=2026-11-09&compare_end=2026-11-15&door=wc")
        assert week.status_code == 200 and 'id="comparison"' in week.text
        assert "<td>Average stay (minutes) <code>average_stay_minutes</code></td>" in week.text
        rows = list(csv.reader(io.StringIO(client.get(
            f"/stats.csv?branch=center&start={START}&end={END}&door=wc&table=heatmap").text)))
        total = sum(int(n) for r in rows[1:] for n in r[1:])
        assert total == sum(_expected_heatmap(sent, "wc").values())


BAD = [("start", "2026-13-01", 400, "bad_date"), ("end", "'; DROP TABLE access_log;--", 400,
       "bad_date"), ("start", "x" * 5000, 400, "value_too_long"),
       ("room", "' OR 1=1 --", 404, "room_unknown"), ("door", "wc\"><script>", 404,
       "door_unknown"), ("branch", "east", 403, "branch_not_assigned"),
       ("branch", "' OR ''='", 404, "branch_unknown"), ("compare_start", "2026-11-01", 400,
       "bad_range"), ("end", "2020-01-01", 400, "bad_range"), ("table", "secrets", 404,
       "table_unknown")]


@pytest.mark.parametrize("name,value,status,code", BAD, ids=[b[3] + "-" + b[0] for b in BAD])
def test_bad_filters_get_a_clear_refusal(site, name, value, status, code):
    server, s, _ = site
    with signed_in_client(server, "fac") as client:
        path = "/stats.csv" if name == "table" else "/stats"
        got = client.get(path, params={"start": "2026-11-02", "end": "2026-11-22", "table":
                                       "days", name: value})
        assert (got.status_code, got.headers["x-error-code"]) == (status, code)
        assert "Traceback" not in got.text and code in got.text
    assert s.db.execute("SELECT count(*) FROM access_log").fetchone()[0] > 0


def test_old_access_log_rows_get_room_direction_and_counts(tmp_path):
    db = connect(str(tmp_path / "old.db"))
    apply(sqlite_utils.Database(db.conn), [*MIGRATIONS, *CIRCULATION_MIGRATIONS])   # as before
    branches.add_branch(Store(db), "center", "Center", "Asia/Shanghai")
    db.execute("INSERT INTO access_log VALUES ('lock-1', 'center', 'wc', ?, 'granted',"
               " '2026-11-30T17:30:00+00:00', 1, '')", ["a" * 64])     # 01:30 next day there
    db.execute("INSERT INTO access_log VALUES ('lock-1', 'center', 'wc', '', 'exit_button',"
               " '2026-11-30T17:40:00+00:00', 2, '')")
    db.close()
    db = open_store(str(tmp_path / "old.db"))
    assert db.execute("SELECT room, direction FROM access_log ORDER BY seq").fetchall() == [
        ("wc", "in"), ("wc", "out")]
    counts = access_counts.hours(db, "center", date(2026, 12, 1), date(2026, 12, 1))
    assert [(c.hour, c.direction, c.result, c.n) for c in counts] == [
        (1, "in", "granted", 1), (1, "out", "exit_button", 1)]
    assert [d.visits for d in access_counts.days(db, "center", date(2026, 12, 1),
                                                 date(2026, 12, 1))] == [1]
