"""The Now page: who is inside each room, the doors and their state, open alarms (acknowledge,
clear) and door commands with a confirmation step, and the evening sweeps."""

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from central import alarms, commands, fleet_view, presence
from central.circulation import branches, patrons
from central.circulation.errors import NotFound
from central.circulation.signin import Session
from central.web import auth, words
from central.web.auth import Form, route
from central.web.errors import WebError
from central.web.render import Here, page
from central.web.staff import ACT, NAMES, VIEW

DOOR_COMMANDS = ("open", "lockdown", "release", "sweep")


def now(request: Request, form: Form) -> Response:
    """The page."""
    session = auth.signed_in(request, *VIEW)
    branch = auth.chosen_branch(request, session, VIEW)
    db = auth.store(request).db
    rooms = presence.counts(db, branch)
    locks = [d for d in fleet_view.devices(db, sites=[branch]) if d.status and d.status.doors]
    return page(request, "now.html", session=session, branch=branch, rooms=rooms, locks=locks,
                alarms=alarms.latest(db, [branch]), sweeps=presence.sweeps(db, branch),
                branches=auth.branch_choices(request, session), may_act=session.role in ACT,
                done=_done(request))


def _done(request: Request) -> str:
    """What the page just did (`?done=`), as an action's code; anything else shows nothing."""
    done = request.query_params.get("done", "")
    return done if words.name("action", done) else ""


def inside(request: Request, form: Form) -> Response:
    """The card hashes recorded inside one room (for the sweep), oldest entry first."""
    session = auth.signed_in(request, *VIEW)
    branch = auth.chosen_branch(request, session, VIEW)
    room = auth.bounded("room", request.query_params.get("room", ""))
    people = [i for i in presence.inside(auth.store(request).db, branch) if i.room == room]
    return page(request, "inside.html", session=session, branch=branch, room=room,
                people=people, may_name=session.role in NAMES)


def _lock(request: Request, session: Session, dev: str,
          kinds: tuple[str, ...] = ("lockd",)) -> fleet_view.DeviceView:
    """A lock (or another device of `kinds`) at a branch where the staff member may act, else
    a refusal."""
    found = next(iter(fleet_view.devices(auth.store(request).db, dev)), None)
    if found is None or found.kind not in kinds:
        raise WebError(f"no lock {dev!r}", code="device_unknown", status=404)
    branches.require_role(auth.store(request), session.staff_id, found.site, *ACT)
    return found


def alarm(request: Request, form: Form) -> Response:
    """Acknowledge an open alarm, or ask its lock (a return box, a locker) to clear it (both
    audited)."""
    session = auth.posted(request, form, *ACT)
    lock = _lock(request, session, form.get("dev", ""), ("lockd", "returnbox", "locker"))
    db = auth.store(request).db
    found = alarms.find(db, lock.id, form.get("door", ""), form.get("alarm", ""))
    if found is None or not found.active:
        raise WebError("no such open alarm", code="alarm_unknown", status=404)
    subject = f"alarm:{lock.id}/{found.door}/{found.alarm}"
    if form.get("do") == "acknowledge":
        with auth.store(request).atomic():
            alarms.acknowledge(db, lock.id, found.door, found.alarm, session.staff_id,
                               auth.store(request).now())
        auth.record(request, session, lock.site, "alarm.acknowledge", subject, None, "ok")
    elif form.get("do") == "clear":
        nonce = alarms.clear(db, lock.id, found.door, found.alarm)
        auth.record(request, session, lock.site, "alarm.clear", subject, {"nonce": nonce}, "ok")
    else:
        raise WebError("do: acknowledge or clear", code="bad_value")
    return RedirectResponse(f"/now?branch={lock.site}&done=alarm.{form['do']}", 303)


def command(request: Request, form: Form) -> Response:
    """A door command: first a page that asks to confirm it, then (confirmed) it is sent."""
    session = auth.posted(request, form, *ACT)
    lock = _lock(request, session, form.get("dev", ""))
    name, door = form.get("name", ""), form.get("door", "")
    doors = lock.status.doors if lock.status else {}
    if name not in DOOR_COMMANDS:
        raise WebError(f"no door command {name!r}", code="command_unknown")
    if door not in doors:
        raise WebError(f"{lock.id} has no door {door!r}", code="door_unknown", status=404)
    args: dict[str, object] = {"room": doors[door].room} if name == "sweep" else {"door": door}
    if name in ("lockdown", "release"):
        args["active"] = form.get("active", "on") != "off"
    if form.get("confirmed") != "yes":
        return page(request, "confirm.html", session=session, lock=lock, door=door, name=name,
                    args=args, active=form.get("active", "on"), back=_back(lock.site))
    nonce = commands.issue(auth.store(request).db, lock.id, name, args)
    auth.record(request, session, lock.site, f"door.{name}", f"door:{lock.id}/{door}",
                {**args, "nonce": nonce}, "ok")
    return RedirectResponse(f"/now?branch={lock.site}&done={name}", 303)


def who(request: Request, form: Form) -> Response:
    """The patron behind one card hash, for a role with that right; audited, found or not."""
    session = auth.posted(request, form, *NAMES)
    branch, card = form.get("branch", ""), form.get("card", "")
    s = auth.store(request)
    s.branch(branch)
    branches.require_role(s, session.staff_id, branch, *NAMES)
    if len(card) != 64 or any(c not in "0123456789abcdef" for c in card):
        raise WebError("a card hash is 64 hexadecimal digits", code="bad_card")
    try:
        found = patrons.by_card_hash(s, branch, card)
    except NotFound:
        auth.record(request, session, branch, "patron.lookup", f"card:{card[:12]}", None,
                    "card_unknown")
        raise
    auth.record(request, session, branch, "patron.lookup", f"patron:{found['id']}",
                {"card": card[:12]}, "ok")
    return page(request, "who.html", session=session, branch=branch, patron=found,
                back=_back(branch))


def _back(branch: str) -> Here:
    """The Now page of a branch: where a form's answer goes back to (its language links too)."""
    return "now", [("branch", branch)]


def routes() -> list[Route]:
    """The Now page's routes."""
    return [
        route("/now", now),
        route("/now/inside", inside),
        route("/now/alarm", alarm, "POST"),
        route("/now/command", command, "POST"),
        route("/now/who", who, "POST"),
    ]
