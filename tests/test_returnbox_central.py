"""Central's side of the return box over a real mosquitto: check-in routes and refusals, a
second return as a no-op, offline check-ins dated when they went in and applied once, route
differences as staff alerts, the held/shelf datasets, box alarms and the e-mailed receipt."""

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest
from click.testing import CliRunner

from central import alarms, datasets, fleet
from central.circulation import (
    alerts,
    branches,
    catalogue,
    holds,
    loans,
    notices,
    patrons,
    return_sets,
    settings,
    sites,
)
from central.circulation.clock import FixedClock
from central.circulation.store import Store
from central.ingest import Applier, Message
from central.store import open_store
from edge_common import envelope
from edge_common.cardid import card_hash
from edge_common.errors import RemoteError
from edge_common.protocol import circulation as wire
from edge_common.protocol import returns
from edge_common.protocol.returns import HELD_ITEMS, SHELF_ITEMS, CheckinOffline, ShelfItem
from libedge_cli.main import cli
from tests.circ import START, card_holder, copy, install
from tests.harness import wait_for
from tests.web import WebServer, form_token, signed_in_client, staff

UID = "04A1B2C3D4"
BOX_SETS = [HELD_ITEMS, SHELF_ITEMS]


@pytest.fixture
def lib(net):
    """Two branches (the devices' site and Šiška, whose items travel home), copies, a
    borrower with a card and a patron who holds; returns of other branches' items travel."""
    s = install(Store(net.db), branches=[(net.site, "Main Library"), ("siska", "Šiška Library")])
    settings.store(s.db, other_branch_returns="transit")
    s.forget()
    copy(s, "H1", "Alamut", net.site, call_number="821 BAR")
    copy(s, "H2", "Alamut", net.site, call_number="821 BAR")
    copy(s, "R1", "Kekec", net.site, call_number="J KEK")
    copy(s, "A1", "Songs", net.site, call_number="78 SON", attachments="CD")
    copy(s, "L1", "Dictionary", net.site, "reference", call_number="R 03")
    copy(s, "S1", "Na klancu", "siska", call_number="821 CAN")
    s.pid = card_holder(s, UID, "Novak", net.site, first_name="Ana")
    s.waiting = patrons.add_patron(s, "Kranjc", "adult", branch=net.site, first_name="Eva")
    return s


@pytest.fixture
def box(net, lib):
    """A return box at the site with its two datasets; central is started by the test."""
    dev = net.device("box-1", kind="returnbox", datasets=BOX_SETS)
    dev.start()
    yield dev
    dev.stop()


def online(net, box):
    """Start central and wait until the box sees it."""
    net.start_central()
    wait_for(lambda: box.central_up, what="box sees central")


def checkin(box, item: str) -> wire.Returned:
    return box.request(wire.LOAN_CHECKIN, wire.Checkin(item=item))


def refused_with(box, item: str) -> str:
    with pytest.raises(RemoteError) as refused:
        checkin(box, item)
    return refused.value.code


def state(s: Store) -> tuple:
    """Everything a check-in changes: loans, debts, items, holds, counts, alerts."""
    return tuple(s.db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                 for t in ("loans", "debts", "items", "holds", "circ_counts", "staff_alerts"))


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_online_checkin_routes_hold_transit_reshelve_and_says_what_bins_route_by(net, lib, box):
    for item in ("H1", "H2", "R1", "A1"):
        loans.checkout(lib, lib.pid, item, net.site)
    loans.checkout(lib, lib.pid, "S1", "siska")
    holds.place(lib, lib.waiting, "H1", net.site)
    online(net, box)
    held = checkin(box, "H1")
    assert (held.route, held.to, held.category, held.call_number, held.home) == (
        "hold_shelf", net.site, "book", "821 BAR", net.site)
    assert held.pickup_by and held.pickup_by > date.today()
    assert (held.hold_for, "hold_waiting" in held.warnings) == ("Eva K.", True)
    assert held.hold == lib.scalar("SELECT id FROM holds WHERE patron_id = ?", [lib.waiting])
    back = checkin(box, "H2")                    # the hold is filled: the next copy is shelved
    assert (back.route, back.to, back.hold, back.hold_for) == ("reshelve", net.site, None, "")
    travels = checkin(box, "S1")
    assert (travels.route, travels.to, travels.home, travels.call_number) == (
        "transit", "siska", "siska", "821 CAN")
    shelved = checkin(box, "R1")
    assert (shelved.route, shelved.call_number, shelved.warnings) == ("reshelve", "J KEK", [])
    assert "attachments" in checkin(box, "A1").warnings      # the box's rules: a staff bin
    assert lib.scalar("SELECT count(*) FROM loans WHERE returned_at IS NULL") == 0


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_refusals_are_stable_codes_and_a_second_return_changes_nothing(net, lib, box):
    loans.checkout(lib, lib.pid, "R1", net.site)
    loans.checkout(lib, lib.pid, "S1", "siska")
    online(net, box)
    assert checkin(box, "R1").route == "reshelve"
    assert checkin(box, "S1").route == "transit"
    before = state(lib)
    assert refused_with(box, "R1") == "not_on_loan"           # returned twice
    again = checkin(box, "S1")                                 # passing through, again
    assert (again.route, again.to, again.fine, again.warnings) == (
        "transit", "siska", 0, ["item_in_transit"])
    assert refused_with(box, "NO-SUCH") == "item_unknown"
    assert refused_with(box, "L1") == "in_library_only"       # hand it to staff, with a note
    assert state(lib) == before
    loans.checkout(lib, lib.pid, "R1", net.site)
    stranger = box.request(wire.LOAN_CHECKIN, wire.Checkin(item="R1", card="0" * 64))
    assert stranger.route == "reshelve"                     # an unknown card stops no return


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_a_library_that_refuses_other_branches_returns_says_item_other_branch(net, lib, box):
    settings.store(lib.db, other_branch_returns="refuse")
    loans.checkout(lib, lib.pid, "S1", "siska")
    online(net, box)
    assert refused_with(box, "S1") == "item_other_branch"
    assert loans.open_loan(lib, catalogue.resolve(lib, "S1")["id"]) is not None


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_offline_returns_are_applied_once_and_a_different_route_is_a_staff_alert(net, lib, box):
    for item in ("H1", "H2", "R1"):
        loans.checkout(lib, lib.pid, item, net.site)
    loans.checkout(lib, lib.pid, "S1", "siska")
    holds.place(lib, lib.waiting, "H1", net.site)
    went_in = [("H1", "reshelve", "shelf"),          # a hold was waiting: should be hold_shelf
               ("R1", "reshelve", "shelf"),          # as central routes it: no alert
               ("S1", "sort_later", "later"),        # another branch's: transit
               ("NOPE", "sort_later", "later")]      # unknown at central: refused, kept
    ids = [box.emit(returns.LOAN_CHECKIN_OFFLINE,
                    CheckinOffline(item=item, route=route, bin=bin))
           for item, route, bin in went_in]
    online(net, box)
    wait_for(lambda: box.health().outbox_depth == 0, what="offline returns applied")
    open_ = {a["details"]["item"]: a for a in alerts.open_alerts(lib, net.site)}
    assert sorted(open_) == ["H1", "NOPE", "S1"]
    assert [(open_[i]["kind"], open_[i]["code"], open_[i]["dev"],
             open_[i]["details"]["box_route"], open_[i]["details"]["box_bin"],
             open_[i]["details"]["central_route"]) for i in ("H1", "S1", "NOPE")] == [
        ("offline_return", "route_differs", "box-1", "reshelve", "shelf", "hold_shelf"),
        ("offline_return", "route_differs", "box-1", "sort_later", "later", "transit"),
        ("offline_return", "item_unknown", "box-1", "sort_later", "later", "reject")]
    assert [r[0] for r in lib.db.execute(
        "SELECT i.barcode FROM loans l JOIN items i ON i.id = l.item_id"
        " WHERE l.returned_at IS NULL")] == ["H2"]             # the copy nobody returned
    assert [h["barcode"] for h in holds.shelf(lib, net.site)] == ["H1"]
    before = state(lib)
    for (item, route, bin), id in zip(went_in, ids, strict=True):   # the outbox sends again
        box.emit(returns.LOAN_CHECKIN_OFFLINE, CheckinOffline(item=item, route=route, bin=bin),
                 id=id)
    wait_for(lambda: box.health().outbox_depth == 0, what="replays acked")
    assert state(lib) == before


def _offline_return(applier: Applier, dev: str, item: str, at: datetime,
                    route: returns.Route = "reshelve") -> Message:
    body = CheckinOffline(item=item, route=route, bin="shelf")
    env = msgspec.structs.replace(
        envelope.make(returns.LOAN_CHECKIN_OFFLINE.type, dev, body), at=at)
    return Message(dev, "evt", env, envelope.encode(env))


def test_an_offline_return_is_dated_when_it_went_in_and_fined_to_that_day(tmp_path):
    """Returned on its due day while the link was down, applied the next morning: no fine;
    a day late when it went in: one day's fine, not two."""
    db = open_store(str(tmp_path / "central.db"))
    s = install(Store(db, FixedClock(START)))
    fleet.enrol(db, "box-1", "center", "returnbox")
    branches.set_hours(s, "center", {6: ("10:00", "14:00")}, whole_week=False)  # D2's Sunday
    pid = patrons.add_patron(s, "Novak", "adult", branch="center")
    for item in ("D1", "D2"):
        copy(s, item, "Alamut", "center")
        loans.checkout(s, pid, item, "center")
    due = START.date()
    with s.atomic():
        s.db.execute("UPDATE loans SET due = ? WHERE item_id = (SELECT id FROM items"
                       " WHERE barcode = 'D1')", [due.isoformat()])
        s.db.execute("UPDATE loans SET due = ? WHERE item_id = (SELECT id FROM items"
                       " WHERE barcode = 'D2')", [(due - timedelta(days=1)).isoformat()])
    went_in = START + timedelta(hours=6)                 # 16:00 on the due day, in Ljubljana
    applier = Applier(db, clock=lambda: START + timedelta(days=1))
    batch = [_offline_return(applier, "box-1", item, went_in) for item in ("D1", "D2")]
    done = applier.apply(batch)
    assert done.applied == 2
    assert db.execute("SELECT returned_at FROM loans ORDER BY id").fetchall() == [
        (went_in.isoformat(),)] * 2
    per_day = catalogue.rule(s, "adult", "book")["fine_per_day"]
    assert db.execute("SELECT amount FROM debts").fetchall() == [(per_day,)]
    again = applier.apply(batch)
    assert again.duplicates == 2 and again.applied == 0
    assert db.execute("SELECT count(*) FROM debts").fetchone() == (1,)
    future = _offline_return(applier, "box-1", "D1", datetime(2030, 1, 1, tzinfo=UTC))
    applier.apply([future])                             # a clock ahead is never believed
    assert alerts.open_alerts(s, "center")[0]["details"]["at"] == (
        START + timedelta(days=1)).isoformat()
    db.conn.close()


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_the_box_datasets_follow_holds_and_items_and_a_new_site_gets_them_whole(net, lib, box):
    online(net, box)

    def row(dataset: str, key: str):
        return box.row(dataset, key)

    wait_for(lambda: row(SHELF_ITEMS, "R1") == ShelfItem(category="book", call_number="J KEK"),
             what="shelf items replicated")
    assert row(SHELF_ITEMS, "S1") is None and row(HELD_ITEMS, "H1") is None
    loans.checkout(lib, lib.pid, "H1", net.site)
    loans.checkout(lib, lib.pid, "H2", net.site)
    placed = holds.place(lib, lib.waiting, "H1", net.site)
    wait_for(lambda: row(HELD_ITEMS, "H1") is not None and row(HELD_ITEMS, "H2") is not None,
             what="a placed hold makes its copies held")
    assert checkin(box, "H2").route == "hold_shelf"
    wait_for(lambda: row(HELD_ITEMS, "H1") is None and row(HELD_ITEMS, "H2") is None,
             what="a filled hold leaves nothing held")
    holds.cancel(lib, placed["id"])
    copy(lib, "N1", "New book", net.site, call_number="001 NEW")
    wait_for(lambda: row(SHELF_ITEMS, "N1") is not None, what="a new copy is on the shelf list")
    with lib.atomic():
        catalogue.change_home_branch(lib, "R1", "siska")
    wait_for(lambda: row(SHELF_ITEMS, "R1") is None, what="a moved copy leaves the list")
    assert set(datasets.current(lib.db, net.site, SHELF_ITEMS)) == {
        "H1", "H2", "A1", "L1", "N1"}
    sites.open_site(lib.db, "siska")                    # Šiška's first device
    assert set(datasets.current(lib.db, "siska", SHELF_ITEMS)) == {"S1", "R1"}
    assert return_sets.shelf(lib.db, "siska")["S1"] == ShelfItem(category="book",
                                                                 call_number="821 CAN")


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_box_alarms_are_listed_with_door_alarms_and_the_box_shows_in_status(net, lib, box):
    online(net, box)
    box.emit(returns.RETURNS_ALARM, returns.BoxAlarm(part="belt", alarm="jam", active=True))
    box.emit(returns.RETURNS_ALARM, returns.BoxAlarm(part="bin-2", alarm="bin_full",
                                                     active=True))
    box.emit(returns.RETURNS_ALARM, returns.BoxAlarm(part="bin-2", alarm="bin_full",
                                                     active=False))
    wait_for(lambda: box.health().outbox_depth == 0, what="alarms applied")
    shown = CliRunner().invoke(cli, ["admin", "alarms", "--db", net.store])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert len(lines) == 1 and f"{net.site}/box-1/belt" in lines[0] and "jam" in lines[0]
    assert "ACTIVE" in lines[0]
    everything = CliRunner().invoke(cli, ["admin", "alarms", "--all", "--db", net.store])
    assert "bin_full" in everything.output and "cleared" in everything.output
    wait_for(lambda: "box-1" in CliRunner().invoke(
        cli, ["status", "--db", net.store]).output, what="box in status")
    status = CliRunner().invoke(cli, ["status", "--db", net.store]).output
    line = next(x for x in status.splitlines() if x.startswith("box-1"))
    assert "returnbox" in line and "online" in line


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_staff_acknowledge_a_box_alarm_on_the_now_page_which_names_it(net, lib, box):
    online(net, box)
    staff(lib, "fac", "facilities", [net.site])
    box.emit(returns.RETURNS_ALARM, returns.BoxAlarm(part="belt", alarm="jam", active=True))
    wait_for(lambda: alarms.latest(net.db), what="the jam at central")
    server = WebServer(net.store)
    try:
        with signed_in_client(server, "fac") as client:
            page = client.get("/now", params={"branch": net.site}).text
            assert "Item stuck on the belt" in page and "box-1/belt" in page
            done = client.post("/now/alarm", data={
                "csrf": form_token(client, "/now"), "dev": "box-1", "door": "belt",
                "alarm": "jam", "do": "acknowledge"})
            assert done.status_code == 303, done.text
        assert alarms.find(net.db, "box-1", "belt", "jam").acked_by == "fac"
    finally:
        server.stop()


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_a_box_receipt_is_e_mailed_with_every_item_of_the_visit(net, lib, box):
    with lib.atomic():
        lib.update("patrons", lib.pid, {"email": "ana@example.org"})
    online(net, box)
    card = card_hash(bytes.fromhex(net.card_key), UID)
    who = box.request(wire.PATRON_IDENTIFY, wire.Card(card=card))
    assert who.email_on_file
    lines = [wire.ReceiptLine(style="title", text="Main Library: returns"),
             wire.ReceiptLine(style="text", text="R1 Kekec: back on the shelf"),
             wire.ReceiptLine(style="text", text="S1 Na klancu: returned")]
    box.emit(wire.RECEIPT_EMAIL, wire.ReceiptEmail(card=card, lang="sl", subject="Returns",
                                                   lines=lines))
    wait_for(lambda: box.health().outbox_depth == 0, what="receipt queued")
    queued = lib.rows("SELECT * FROM notices WHERE kind = 'receipt'")
    assert len(queued) == 1 and queued[0]["patron_id"] == lib.pid
    assert notices.has_email(patrons.patron(lib, lib.pid))
    assert all(line.text in queued[0]["body"] for line in lines)
