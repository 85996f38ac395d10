"""The Now page against a real lock: door commands with confirmation that the lock acts on,
alarms acknowledged and cleared, who is inside; only staff who may act can."""

import json
from datetime import UTC, datetime

import pytest

from central import alarms, fleet, fleet_view
from central.circulation import audit, branches
from central.circulation.store import Store
from edge_common.cardid import card_hash
from edge_common.readers import send_sim_tap
from tests.harness import Network, wait_for
from tests.locks import CONTACT, add_card, pin_changes, start_lock
from tests.web import (
    WebServer,
    app_scope,
    check_page,
    form_token,
    sign_in,
    signed_in_client,
    staff,
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, module_db):
    """A broker, central and one lock with the door `wc`, at branch `main`; a second branch
    `east` with its own facilities staff, and a clerk; on each store."""
    root = tmp_path_factory.mktemp("now")
    net = Network(root, store="" if module_db.endswith(".db") else module_db)
    s = Store(net.db)
    branches.add_branch(s, "main", "Main", "Europe/Ljubljana")
    branches.add_branch(s, "east", "East", "Europe/Ljubljana")
    staff(s, "fac", "facilities", ["main"])
    staff(s, "sup", "supervisor", ["main"])
    staff(s, "eve", "facilities", ["east"])          # the same role, at another branch
    staff(s, "desk", "clerk", ["main"])               # a role with no place on these pages
    net.start_central()
    lock = start_lock(net, root)
    wait_for(lambda: any(d.status and d.status.doors for d in fleet_view.devices(net.db)),
             what="the lock's doors at central")
    yield net, lock, s
    lock.stop()
    net.close()


@pytest.fixture(scope=app_scope)
def site(lab):
    """`lab` and the web app over its central."""
    net, lock, s = lab
    server = WebServer(net.store)
    yield net, lock, server, s
    server.stop()


def _locked(lock) -> int:
    """How many states the relay took, once the wc is locked again: whichever test ran before
    on this worker's lock may have opened it, and its relay falls back a few seconds later."""
    wait_for(lambda: pin_changes(lock)[-1:] in ([], [False]), what="the wc locked")
    return len(pin_changes(lock))


def test_door_command_is_confirmed_then_the_lock_opens(site, chromium, tmp_path):
    net, lock, server, s = site
    page = chromium.page()
    sign_in(page, server.url, "fac")
    page.goto(f"{server.url}/now")
    before = _locked(lock)
    page.click("tr[data-door='lock-1/wc'] button[data-command=open-on]")
    assert "Open once" in page.locator("#question").inner_text()
    check_page(page, "confirm", tmp_path)
    assert pin_changes(lock)[before:] == []                 # nothing sent before the yes
    page.click("#confirm")
    assert page.locator("#done").inner_text().endswith("Open once")
    wait_for(lambda: True in pin_changes(lock)[before:], what="the relay released")
    assert [e["action"] for e in audit.entries(s, staff_id="fac")][0] == "door.open"
    page.context.close()


def test_an_alarm_is_acknowledged_then_cleared_at_the_lock(site, chromium, tmp_path):
    net, lock, server, s = site
    _locked(lock)
    lock.factory.pin(CONTACT).drive_high()                  # forced open
    lock.factory.pin(CONTACT).drive_low()
    wait_for(lambda: alarms.latest(net.db), what="the alarm at central")
    page = chromium.page()
    sign_in(page, server.url, "fac")
    wait_for(lambda: any("wc:door_forced" in d.status.alarms
                         for d in fleet_view.devices(net.db) if d.status),
             what="the alarm in the lock's status")
    page.goto(f"{server.url}/fleet")
    assert page.locator("tr[data-dev='lock-1'] .alarms").inner_text() \
        == "wc: Door forced open door_forced"
    page.goto(f"{server.url}/now")
    check_page(page, "now", tmp_path)
    row = page.locator("tr[data-alarm='lock-1/wc/door_forced']")
    assert row.locator("td").nth(2).inner_text() == "Door forced open door_forced"
    row.locator("button[data-do=acknowledge]").click()
    assert page.locator("tr[data-alarm='lock-1/wc/door_forced'] .acked").inner_text() == "fac"
    page.locator("tr[data-alarm='lock-1/wc/door_forced'] button[data-do=clear]").click()
    wait_for(lambda: not alarms.latest(net.db), what="the lock cleared the alarm")
    assert page.locator("#done").inner_text().endswith("Asked the device to clear the alarm")
    page.reload()
    assert "No open alarms." in page.locator("#alarms").inner_text()
    done = [e["action"] for e in audit.entries(s, staff_id="fac")][:2]
    assert done == ["alarm.clear", "alarm.acknowledge"]
    page.context.close()


def test_who_is_inside_shows_counts_and_card_hashes(site):
    net, lock, server, _ = site
    add_card(net.db, "04AA0001", lock)
    assert send_sim_tap(lock.socket, "04AA0001", answer_within=5) == "granted"
    wait_for(lambda: net.db.execute("SELECT count(*) FROM roster").fetchone()[0] == 1,
             what="the entry at central")
    with signed_in_client(server, "fac") as client:
        text = client.get("/now").text
        assert 'data-room="wc"' in text and "04AA0001" not in text
        assert '<option value="main" selected>' in text                 # the branch shown
        assert 'href="/now/inside?branch=main&amp;room=wc"' in text      # and its room's cards
        cards = client.get("/now/inside", params={"room": "wc"}).text
        assert card_hash(lock.key, "04AA0001")[:12] in cards and "04AA0001" not in cards


def test_staff_who_may_only_look_cannot_act_and_forms_need_their_token(site):
    _, _, server, _ = site
    with signed_in_client(server, "sup") as client:
        assert "data-command" not in client.get("/now").text
        token = form_token(client, "/now")
        for dev in ("lock-1", "lock-9"):                # refused before the lock is looked up
            refused = client.post("/now/command", data={"csrf": token, "dev": dev,
                                                        "door": "wc", "name": "open",
                                                        "confirmed": "yes"})
            assert (refused.status_code, refused.headers["x-error-code"]) == (
                403, "role_required"), dev
    with signed_in_client(server, "fac") as client:
        forged = client.post("/now/command", data={"csrf": "nope", "dev": "lock-1",
                                                   "door": "wc", "name": "open",
                                                   "confirmed": "yes"})
        assert (forged.status_code, forged.headers["x-error-code"]) == (403, "csrf_failed")
        token = form_token(client, "/now")
        for field, value, code in [("dev", "lock-9", "device_unknown"),
                                   ("door", "' OR 1=1", "door_unknown"),
                                   ("name", "self_destruct", "command_unknown")]:
            data = {"csrf": token, "dev": "lock-1", "door": "wc", "name": "open", field: value}
            got = client.post("/now/command", data=data)
            assert got.headers["x-error-code"] == code and 400 <= got.status_code < 500


def test_the_fleet_shows_the_lock_as_the_device_list_does(site, chromium, tmp_path):
    net, lock, server, _ = site
    page = chromium.page()
    sign_in(page, server.url, "fac")
    page.goto(f"{server.url}/fleet")
    row = page.locator("tr[data-dev='lock-1']")
    assert row.locator(".state").inner_text() == "online"
    assert "(Facilities)" in page.locator("header").inner_text()
    listed = next(d for d in fleet_view.devices(net.db) if d.id == "lock-1")  # `device list`'s data
    assert row.inner_text().split("\t")[:4] == ["lock-1", "lockd", "main", listed.status.version]
    check_page(page, "fleet", tmp_path)
    page.context.close()


def _inside(net, lock, uid: str) -> tuple[int, str]:
    """A patron's card let in at the lock's door, once central has the entry: the patron and
    the card's hash."""
    pid = add_card(net.db, uid, lock)
    assert send_sim_tap(lock.socket, uid, answer_within=5) == "granted"
    hashed = card_hash(lock.key, uid)
    wait_for(lambda: net.db.execute("SELECT 1 FROM roster WHERE card = ?", [hashed]).fetchone(),
             what="the entry at central")
    return pid, hashed


def test_only_a_role_with_the_right_names_a_card_holder_and_it_is_audited(site, chromium,
                                                                          tmp_path):
    net, lock, server, s = site
    pid, hashed = _inside(net, lock, "04AA0002")
    with signed_in_client(server, "fac") as client:             # facilities: counts only
        text = client.get("/now").text
        assert "data-who" not in text
        refused = client.post("/now/who", data={"csrf": form_token(client, "/now"),
                                                "branch": "main", "card": hashed})
        assert (refused.status_code, refused.headers["x-error-code"]) == (403, "role_required")
    page = chromium.page()
    sign_in(page, server.url, "sup")
    page.goto(f"{server.url}/now")
    page.click("tr[data-room='wc'] a")
    check_page(page, "inside", tmp_path)
    page.click(f"button[data-who='{hashed[:12]}']")
    assert page.locator("#patron td").first.inner_text() == str(pid)
    check_page(page, "who", tmp_path)
    page.context.close()
    entry = audit.entries(s, staff_id="sup")[0]
    assert (entry["action"], entry["subject"], entry["outcome"]) == (
        "patron.lookup", f"patron:{pid}", "ok")


def test_lockdown_and_sweep_from_the_page_reach_the_lock(site):
    net, lock, server, s = site
    with signed_in_client(server, "fac") as client:
        def send(name, active="on"):
            sent = client.post("/now/command", data={
                "csrf": form_token(client, "/now"), "dev": "lock-1", "door": "wc",
                "name": name, "active": active, "confirmed": "yes"})
            assert sent.status_code == 303, sent.text

        send("lockdown")
        wait_for(lambda: lock.doors["wc"].state.lockdown, what="the wc in lockdown")
        send("lockdown", "off")
        wait_for(lambda: not lock.doors["wc"].state.lockdown, what="the lockdown over")
        send("sweep")
        wait_for(lambda: net.db.execute("SELECT count(*) FROM sweeps").fetchone()[0] == 1,
                 what="the sweep report at central")
        assert "No sweeps yet." not in client.get("/now").text
    done = [e["action"] for e in audit.entries(s, staff_id="fac")][:3]
    assert done == ["door.sweep", "door.lockdown", "door.lockdown"]


def test_staff_of_another_branch_cannot_command_its_doors_or_alarms(site):
    net, lock, server, s = site
    before = _locked(lock)
    with signed_in_client(server, "eve") as east:
        token = form_token(east, "/now")
        for path, data in (("/now/command", {"dev": "lock-1", "door": "wc", "name": "open",
                                             "confirmed": "yes"}),
                           ("/now/alarm", {"dev": "lock-1", "door": "wc",
                                           "alarm": "door_forced", "do": "clear"})):
            refused = east.post(path, data={"csrf": token, **data})
            assert (refused.status_code, refused.headers["x-error-code"]) == (
                403, "branch_not_assigned"), path
    assert net.db.execute("SELECT count(*) FROM audit WHERE staff_id = 'eve'"
                          " AND action != 'staff.sign_in'").fetchone()[0] == 0
    assert pin_changes(lock)[before:] == []


def test_the_language_links_of_a_forms_answer_lead_to_a_page_that_opens(site, chromium):
    net, lock, server, _ = site
    pid, hashed = _inside(net, lock, "04AA0003")
    page = chromium.page()
    sign_in(page, server.url, "fac")
    page.goto(f"{server.url}/now")
    page.click("tr[data-door='lock-1/wc'] button[data-command=open-on]")    # the confirmation
    with page.expect_response(lambda r: "lang=sl" in r.url) as switched:
        page.click("a[lang=sl]")
    assert switched.value.status == 200 and page.locator("html").get_attribute("lang") == "sl"
    assert page.url == f"{server.url}/now?branch=main&lang=sl"
    page.context.close()
    page = chromium.page()
    sign_in(page, server.url, "sup")
    page.goto(f"{server.url}/now/inside?branch=main&room=wc")
    page.click(f"button[data-who='{hashed[:12]}']")                          # the card holder
    assert page.locator("#patron td").first.inner_text() == str(pid)
    with page.expect_response(lambda r: "lang=cs" in r.url) as switched:
        page.click("a[lang=cs]")
    assert switched.value.status == 200 and page.locator("html").get_attribute("lang") == "cs"
    page.context.close()


def _forced(net, lock) -> None:
    """The wc's door forced open at the lock, once central shows the alarm open."""
    _locked(lock)
    lock.factory.pin(CONTACT).drive_high()
    lock.factory.pin(CONTACT).drive_low()
    wait_for(lambda: alarms.find(net.db, "lock-1", "wc", "door_forced")
             and alarms.find(net.db, "lock-1", "wc", "door_forced").active,
             what="the alarm open at central")


def test_alarm_forms_acknowledge_then_clear_and_another_branch_sees_none_of_it(site):
    net, lock, server, s = site
    _forced(net, lock)
    _, hashed = _inside(net, lock, "04AA0004")
    with signed_in_client(server, "eve") as east:                 # east's page: nothing of main
        text = _page_for(east.get("/now"), "Eve (Facilities)")
        assert hashed[:12] not in east.get("/now/inside", params={"room": "wc"}).text
        assert "lock-1" not in text and 'data-room="wc"' not in text
        assert "No open alarms." in text and "No doors reported yet." in text
    with signed_in_client(server, "fac") as client:
        token = form_token(client, "/now")
        text = _page_for(client.get("/now"), "Fac (Facilities)")
        assert 'data-alarm="lock-1/wc/door_forced"' in text and 'data-room="wc"' in text
        assert 'data-command="open-on"' in text and 'data-do="clear"' in text
        base = {"csrf": token, "dev": "lock-1", "door": "wc", "alarm": "door_forced"}
        for data, code, status in [({**base, "do": "ignore"}, "bad_value", 400),
                                   ({**base, "alarm": "door_held"}, "alarm_unknown", 404),
                                   ({**base, "door": "hall"}, "alarm_unknown", 404),
                                   ({**base, "dev": "lock-9"}, "device_unknown", 404)]:
            got = client.post("/now/alarm", data=data)
            assert (got.status_code, got.headers["x-error-code"]) == (status, code), data
        done = client.post("/now/alarm", data={**base, "do": "acknowledge"})
        assert (done.status_code, done.headers["location"]) == (
            303, "/now?branch=main&done=alarm.acknowledge")
        assert alarms.find(net.db, "lock-1", "wc", "door_forced").acked_by == "fac"
        done = client.post("/now/alarm", data={**base, "do": "clear"})
        assert (done.status_code, done.headers["location"]) == (
            303, "/now?branch=main&done=alarm.clear")
        wait_for(lambda: not alarms.find(net.db, "lock-1", "wc", "door_forced").active,
                 what="the lock cleared the alarm")
        again = client.post("/now/alarm", data={**base, "do": "clear"})   # no longer open
        assert (again.status_code, again.headers["x-error-code"]) == (404, "alarm_unknown")
    cleared, acked = audit.entries(s, staff_id="fac")[:2]
    assert [(e["action"], e["subject"], e["branch_id"], e["outcome"])
            for e in (cleared, acked)] == [
        ("alarm.clear", "alarm:lock-1/wc/door_forced", "main", "ok"),
        ("alarm.acknowledge", "alarm:lock-1/wc/door_forced", "main", "ok")]
    sent = net.db.execute("SELECT name, args FROM commands WHERE nonce = ?",
                          [cleared["after"]["nonce"]]).fetchone()
    assert (sent[0], json.loads(sent[1])) == ("clear_alarm", {"door": "wc", "alarm": "door_forced"})


@pytest.mark.parametrize(("dev", "kind", "door", "alarm"), [
    ("box-1", "returnbox", "belt", "jam"), ("locker-1", "locker", "l07", "door_forced")])
def test_a_return_box_alarm_is_dealt_with_on_the_page_but_a_box_takes_no_door_command(
        site, dev, kind, door, alarm):
    """The same for a return box's and a locker's alarm: neither is a lock with doors."""
    net, _, server, _ = site
    fleet.enrol(net.db, dev, "main", kind)
    # The device's alarm report, kept as central keeps one from it.
    report = ("INSERT INTO door_alarms (dev, site, door, alarm, active, at)"
              " VALUES (?, 'main', ?, ?, ?, ?)")
    with net.db.transaction():
        net.db.execute(report, [dev, door, alarm, 1, datetime.now(UTC).isoformat()])
    try:
        with signed_in_client(server, "fac") as client:
            base = {"csrf": form_token(client, "/now"), "dev": dev, "door": door,
                    "alarm": alarm}
            for do in ("acknowledge", "clear"):
                assert client.post("/now/alarm", data={**base, "do": do}).status_code == 303
            asked = client.post("/now/command", data={**base, "name": "open", "confirmed": "yes"})
            assert (asked.status_code, asked.headers["x-error-code"]) == (404, "device_unknown")
        with signed_in_client(server, "sup") as looker:             # may look, not act
            refused = looker.post("/now/alarm", data={**base, "csrf": form_token(looker, "/now"),
                                                      "dev": "box-9", "do": "acknowledge"})
            assert (refused.status_code, refused.headers["x-error-code"]) == (
                403, "role_required")
        assert alarms.find(net.db, dev, door, alarm).acked_by == "fac"
        assert net.db.execute("SELECT name FROM commands WHERE dev = ?", [dev]).fetchall() == [
            ("clear_alarm",)]
    finally:
        with net.db.transaction():
            net.db.execute(report, [dev, door, alarm, 0, datetime.now(UTC).isoformat()])  # cleared


def test_a_door_command_is_only_asked_about_until_confirmed(site):
    net, lock, server, s = site
    before, issued = _locked(lock), _issued(net)
    with signed_in_client(server, "fac") as client:
        token = form_token(client, "/now")
        for name, active, question in [("open", "on", "Open once</strong> — lock-1/wc (main)"),
                                       ("release", "off", "(off) — lock-1/wc (main)"),
                                       ("lockdown", "on", "(on) — lock-1/wc (main)")]:
            asked = client.post("/now/command", data={"csrf": token, "dev": "lock-1",
                                                      "door": "wc", "name": name,
                                                      "active": active})
            assert question in _page_for(asked, "Fac (Facilities)"), name
            assert f'name="active" value="{active}"' in asked.text
            assert 'href="/now?branch=main&amp;lang=sl"' in asked.text   # its language links
        assert _issued(net) == issued                             # nothing sent yet
        sent = client.post("/now/command", data={"csrf": token, "dev": "lock-1", "door": "wc",
                                                 "name": "release", "active": "off",
                                                 "confirmed": "yes"})
        assert (sent.status_code, sent.headers["location"]) == (
            303, "/now?branch=main&done=release")
    entry = audit.entries(s, staff_id="fac")[0]
    assert (entry["action"], entry["subject"], entry["branch_id"], entry["outcome"]) == (
        "door.release", "door:lock-1/wc", "main", "ok")
    assert (entry["after"]["door"], entry["after"]["active"]) == ("wc", False)
    sent = net.db.execute("SELECT name, args FROM commands WHERE nonce = ?",
                          [entry["after"]["nonce"]]).fetchone()     # the audit names the command
    assert (sent[0], json.loads(sent[1])) == ("release", {"door": "wc", "active": False})
    assert pin_changes(lock)[before:] == []                       # ending a release opens nothing
    assert _issued(net) == issued + 1


def _page_for(answer, who: str) -> str:
    """The text of a page shown to `who` (its header names them, with Sign out)."""
    assert answer.status_code == 200 and f"<span>{who}</span>" in answer.text
    return answer.text


def _issued(net) -> int:
    """How many commands central has issued."""
    return net.db.execute("SELECT count(*) FROM commands").fetchone()[0]


def test_a_card_holder_is_named_only_from_a_well_formed_hash_of_the_own_branch(site):
    net, lock, server, s = site
    pid, hashed = _inside(net, lock, "04AA0005")
    with signed_in_client(server, "fac") as client:                 # facilities: hashes only
        assert "data-who" not in client.get("/now/inside", params={"room": "wc"}).text
        refused = client.post("/now/who", data={"csrf": form_token(client, "/now"),
                                                "branch": "west", "card": hashed})
        # A role without the right learns nothing, not even that there is no branch west.
        assert (refused.status_code, refused.headers["x-error-code"]) == (403, "role_required")
    with signed_in_client(server, "sup") as client:
        token = form_token(client, "/now")
        cards = _page_for(client.get("/now/inside", params={"room": "wc"}), "Sup (Supervisor)")
        assert f'data-who="{hashed[:12]}"' in cards and 'name="branch" value="main"' in cards
        assert "<h1>Inside now: wc</h1>" in cards
        assert hashed[:12] not in client.get("/now/inside", params={"room": "hall"}).text
        for card, branch, code, status in [(hashed[:63], "main", "bad_card", 400),
                                           (hashed[:63] + "X", "main", "bad_card", 400),
                                           (hashed, "east", "branch_not_assigned", 403),
                                           (hashed, "west", "branch_unknown", 404),
                                           ("0" * 64, "main", "card_unknown", 404)]:
            got = client.post("/now/who", data={"csrf": token, "branch": branch, "card": card})
            assert (got.status_code, got.headers["x-error-code"]) == (status, code), card
        named = client.post("/now/who", data={"csrf": token, "branch": "main", "card": hashed})
        assert f"<td>{pid}</td>" in _page_for(named, "Sup (Supervisor)")
        assert 'href="/now?branch=main&amp;lang=cs"' in named.text     # language links
        assert 'href="/now?branch=main">Back' in named.text
    found, unknown = audit.entries(s, staff_id="sup")[:2]
    assert [(e["action"], e["subject"], e["branch_id"], e["outcome"], e["after"])
            for e in (found, unknown)] == [
        ("patron.lookup", f"patron:{pid}", "main", "ok", {"card": hashed[:12]}),
        ("patron.lookup", "card:000000000000", "main", "card_unknown", None)]
    with signed_in_client(server, "desk") as clerk:           # not even which branches exist
        for path, params in (("/now/inside", {"room": "wc", "branch": "nowhere"}),
                             ("/now", {"branch": "nowhere"})):
            refused = clerk.get(path, params=params)
            assert (refused.status_code, refused.headers["x-error-code"]) == (
                403, "role_required"), path


def test_a_lock_that_never_reported_shows_no_door_and_takes_no_command(site):
    net, _, server, _ = site
    fleet.enrol(net.db, "lock-2", "main", "lockd")                # enrolled, never seen since
    with signed_in_client(server, "fac") as client:
        text = _page_for(client.get("/now"), "Fac (Facilities)")
        assert "lock-2" not in text and 'data-door="lock-1/wc"' in text
        got = client.post("/now/command", data={"csrf": form_token(client, "/now"),
                                                 "dev": "lock-2", "door": "wc", "name": "open",
                                                 "confirmed": "yes"})
        assert (got.status_code, got.headers["x-error-code"]) == (404, "door_unknown")
    assert net.db.execute("SELECT count(*) FROM commands WHERE dev = 'lock-2'").fetchone()[0] == 0
