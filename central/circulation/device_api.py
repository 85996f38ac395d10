"""The circulation requests and events devices send, applied exactly once by central's ingest.

A patron is named on the wire only by the keyed hash of a card the device read; refusals are
stable codes (`patron_blocked`, `item_other_branch`, `hold_waiting`, ...) the UIs translate.
Offline work (checkouts queued by a kiosk, returns taken by a return box) arrives as events
dated when they happened; conflicts become staff alerts instead of lost facts.
"""

import contextlib
from datetime import datetime
from typing import cast

import msgspec

from central.circulation import (
    accounts,
    alerts,
    audit,
    catalogue,
    holds,
    loans,
    notices,
    patrons,
    signin_throttle,
    summary,
)
from central.circulation.errors import CirculationError, NotFound, Refused
from central.circulation.store import Store
from central.handlers import Context, Counted, handler
from edge_common.protocol import circulation as wire
from edge_common.protocol import returns as box
from edge_common.protocol.circulation import (
    Card,
    Checkin,
    Checkout,
    HoldCancel,
    HoldPlace,
    Payment,
    Pin,
    ReceiptEmail,
    Renew,
)
from edge_common.protocol.returns import CheckinOffline

ALL_OVERRIDES = loans.OVERRIDABLE | {"patron_blocked", "membership_expired",
                                     "registration_incomplete"}


class _Clock:
    """The time a message is applied at: now, or when an offline event happened."""

    at: datetime

    def now(self) -> datetime:
        """The set time."""
        return self.at


_stores: dict[int, Store] = {}


def store(ctx: Context, at: datetime | None = None) -> Store:
    """The domain store over the handler's transaction, its clock at `at` (default: now)."""
    s = _stores.get(id(ctx.db))
    if s is None or s.db is not ctx.db:
        s = _stores[id(ctx.db)] = Store(ctx.db, _Clock())
    cast(_Clock, s.clock).at = at or ctx.now  # every store in _stores was made with a _Clock
    return s


def _patron(s: Store, ctx: Context, card: str) -> dict:
    return patrons.by_card_hash(s, ctx.device.site, card)


@handler(wire.PATRON_IDENTIFY, read_only=True)
def identify(ctx: Context, body: Card) -> wire.Identified:
    """Who holds the card, may they borrow here, is a PIN asked, can a receipt be e-mailed.

    The e-mail address itself never leaves central: the device learns only that there is one.
    """
    s = store(ctx)
    p = _patron(s, ctx, body.card)
    refusals = holds.patron_refusals(s, p, ctx.device.site)
    return wire.PATRON_IDENTIFY.answer_from(summary.patron_facts(p) | {
        "refusal": refusals[0] if refusals else None, "email_on_file": notices.has_email(p)})


@handler(wire.PATRON_VERIFY_PIN)
def verify_pin(ctx: Context, body: Pin) -> None:
    """Check the patron's kiosk PIN. Wrong guesses are counted as sign-ins are, per device
    and per patron there (`signin_throttle`), so a device's credentials cannot try every PIN:
    past a few, the next guess waits and is refused `pin_locked` unchecked."""
    s = store(ctx)
    pid = _patron(s, ctx, body.card)["id"]
    source = f"device:{ctx.device.id}"
    if not signin_throttle.take(s, source, str(pid)):
        raise Counted("too many wrong PINs: ask at the desk", code="pin_locked")
    if not patrons.check_pin(s, pid, body.pin):
        raise Counted("wrong PIN", code="pin_wrong")
    signin_throttle.succeeded(s, source, str(pid))


@handler(wire.ACCOUNT_SUMMARY, read_only=True)
def account(ctx: Context, body: Card) -> wire.Summary:
    """Loans with renewability, holds by state, this branch's debts and the credit."""
    s = store(ctx)
    return wire.ACCOUNT_SUMMARY.answer_from(
        summary.summary(s, _patron(s, ctx, body.card)["id"], ctx.device.site))


@handler(wire.LOAN_CHECKOUT)
def checkout(ctx: Context, body: Checkout) -> wire.Lent:
    """Lend an item at the device's branch."""
    s = store(ctx)
    return wire.LOAN_CHECKOUT.answer_from(
        loans.checkout(s, _patron(s, ctx, body.card)["id"], body.item, ctx.device.site))


def _happened(ctx: Context) -> datetime:
    """When a device says its event happened; a clock ahead of central's is never believed."""
    return min(ctx.sent_at, ctx.now)


@handler(wire.LOAN_CHECKOUT_OFFLINE)
def checkout_offline(ctx: Context, body: Checkout) -> wire.LentOffline:
    """Record a loan the kiosk made offline, as of when it was made; what a check would have
    refused then, or a copy lent again since, becomes an alert. A return box's return of the
    copy that came first (refused: no loan then) closes the loan when the copy went in."""
    s = store(ctx)
    at = _happened(ctx)
    site = ctx.device.site
    p = _patron(s, ctx, body.card)
    passed: list[str] = []
    said = {"patron": p["id"], "item": body.item, "at": at.isoformat()}
    while True:
        try:
            done = loans.checkout(s, p["id"], body.item, site, overrides=frozenset(passed),
                                  actor=audit.Actor.of_device(ctx.device.id, site), at=at)
            break
        except Refused as exc:
            if exc.code not in ALL_OVERRIDES or exc.code in passed:
                alerts.raise_alert(s, site, "offline_checkout", exc.code, ctx.device.id,
                                   ctx.message_id, **said)
                return wire.LentOffline(recorded=False, alert=exc.code)
            passed.append(exc.code)
    if back := _returned_since(s, site, done["barcode"], at):
        try:
            loans.checkin(s, done["barcode"], site, at=back,
                          actor=audit.Actor.of_device(ctx.device.id, site))
            passed.append("returned_since")
            said["returned_at"] = back.isoformat()
        except CirculationError:
            pass            # the loan stays open; the box's refused return is still an alert
    for code in passed:
        alerts.raise_alert(s, site, "offline_checkout", code, ctx.device.id, ctx.message_id,
                           **said, loan=done["loan"])
    return wire.LOAN_CHECKOUT_OFFLINE.answer_from(done | {"recorded": True, "alerts": passed})


def _returned_since(s: Store, site: str, barcode: str, at: datetime) -> datetime | None:
    """When a return box took the copy back after `at`, in a return that reached central
    before this loan did and was refused (`not_on_loan`, still an open alert): the earliest."""
    it = catalogue.resolve(s, barcode)
    moments = []
    for alert in alerts.open_alerts(s, site):
        said = alert["details"]
        if (alert["kind"], alert["code"]) != ("offline_return", "not_on_loan") or \
                datetime.fromisoformat(said["at"]) <= at:
            continue
        with contextlib.suppress(NotFound):
            if catalogue.resolve(s, said["item"])["id"] == it["id"]:
                moments.append(datetime.fromisoformat(said["at"]))
    return min(moments, default=None)


def _checkin(s: Store, ctx: Context, item: str, card: str | None,
             strict: bool = True) -> dict:
    """Check an item in at the device's branch, dated when the device took it; a return box is
    unattended (in-library-use items are refused) and its answer names the hold slip's patron
    as a desk slip does. Not `strict`: a card central no longer knows does not stop the return."""
    patron_id = None
    if card:
        try:
            patron_id = _patron(s, ctx, card)["id"]
        except NotFound:
            if strict:
                raise
    done = loans.checkin(s, item, ctx.device.site, patron_id=patron_id,
                         unattended=ctx.device.kind == "returnbox", at=_happened(ctx),
                         actor=audit.Actor.of_device(ctx.device.id, ctx.device.site))
    if done["route"] == "hold_shelf" and done.get("hold_patron"):
        done["hold_for"] = summary.display_name(patrons.patron(s, done["hold_patron"]))
    for late in done.get("late", []):
        alerts.raise_alert(s, ctx.device.site, "late_return", late["code"], ctx.device.id,
                           ctx.message_id, item=item, **{k: v for k, v in late.items()
                                                         if k != "code"})
    return done


@handler(wire.LOAN_CHECKIN)
def checkin(ctx: Context, body: Checkin) -> wire.Returned:
    """Take an item back, dated when the device took it; the answer says where it goes."""
    s = store(ctx)
    return wire.LOAN_CHECKIN.answer_from(   # a box takes items back whoever tapped a card
        _checkin(s, ctx, body.item, body.card, strict=ctx.device.kind != "returnbox"))


def _box_route(central: str) -> str:
    """Central's route as a return box's bins know it (a copy set aside for another branch
    travels: the transit bin)."""
    return "transit" if central == "ib_set_aside" else central


@handler(box.LOAN_CHECKIN_OFFLINE)
def checkin_offline(ctx: Context, body: CheckinOffline) -> box.ReturnedOffline:
    """Check in an item a return box took offline, once, dated when it went in (fines to that
    moment, never a loan that started after it); a refusal, a route other than the box's, or a
    present that moved on (the desk took the copy in since, fees charged since) becomes a
    staff alert saying what happened."""
    s = store(ctx)
    at = _happened(ctx)
    site = ctx.device.site
    said = {"item": body.item, "box_route": body.route, "box_bin": body.bin,
            "at": at.isoformat()}
    try:
        done = _checkin(s, ctx, body.item, body.card, strict=False)
    except CirculationError as exc:
        alerts.raise_alert(s, site, "offline_return", exc.code, ctx.device.id,
                           ctx.message_id, **said, central_route="reject")
        return box.ReturnedOffline(recorded=False, route="reject", alerts=[exc.code])
    route = _box_route(done["route"])
    codes = [late["code"] for late in done.get("late", [])]
    if route != body.route and done["route"] != loans.CHECKED_IN_SINCE:
        codes.append("route_differs")
        alerts.raise_alert(s, site, "offline_return", "route_differs", ctx.device.id,
                           ctx.message_id, **said, central_route=done["route"],
                           to=done["to"])
    return box.LOAN_CHECKIN_OFFLINE.answer_from(done | {"recorded": True, "alerts": codes})


@handler(wire.LOAN_RENEW)
def renew(ctx: Context, body: Renew) -> wire.Renewals:
    """Renew chosen loans (or all); each loan gets its own outcome."""
    s = store(ctx)
    pid = _patron(s, ctx, body.card)["id"]
    kiosk = audit.Actor.of_device(ctx.device.id, ctx.device.site)
    if body.loans is None:
        return wire.LOAN_RENEW.answer_from(
            {"renewals": loans.renew_all(s, pid, branches=[ctx.device.site], actor=kiosk)})
    return wire.LOAN_RENEW.answer_from(
        {"renewals": loans.renew_chosen(s, pid, body.loans, at=[ctx.device.site], actor=kiosk)})


@handler(wire.HOLD_PLACE)
def hold_place(ctx: Context, body: HoldPlace) -> wire.HoldPlaced:
    """Place a hold at the device's branch."""
    s = store(ctx)
    target = body.item if body.item is not None else body.title
    if target is None:
        raise Refused("name an item or a title", code="bad_body")
    found = holds.place(s, _patron(s, ctx, body.card)["id"], target, ctx.device.site)
    return wire.HoldPlaced(hold=found["id"], position=found["position"])


@handler(wire.HOLD_CANCEL)
def hold_cancel(ctx: Context, body: HoldCancel) -> wire.HoldCancelled:
    """Cancel one of the patron's holds."""
    s = store(ctx)
    holds.cancel(s, body.hold, patron_id=_patron(s, ctx, body.card)["id"])
    return wire.HoldCancelled(hold=body.hold)


@handler(wire.PAYMENT_RECORD)
def payment(ctx: Context, body: Payment) -> wire.Paid:
    """Record an approved payment once (the terminal reference is its identity), dated when
    the terminal approved it (never later than now)."""
    s = store(ctx, _happened(ctx))
    pid = _patron(s, ctx, body.card)["id"]
    done = accounts.pay(s, pid, ctx.device.site, body.amount, debt_ids=body.debts,
                        method=body.method, dev=ctx.device.id, ref=f"{ctx.device.id}:{body.ref}")
    return wire.Paid(receipt=done["receipt_no"], to_credit=done["to_credit"],
                     credit=done["credit"], owed=done["owed"])


@handler(wire.RECEIPT_EMAIL)
def receipt_email(ctx: Context, body: ReceiptEmail) -> wire.Queued:
    """Queue the receipt as an e-mail notice, once per event (its id is the notice key).

    An unknown card or a patron without an address is refused with a stable code (logged and
    kept with the rejected events; the kiosk's event is acked all the same).
    """
    s = store(ctx)
    p = _patron(s, ctx, body.card)
    if not notices.has_email(p):
        raise Refused("the patron has no e-mail address", code="no_email")
    queued = notices.queue(s, p, ctx.device.site, "receipt",
                           f"receipt:{ctx.device.id}:{ctx.message_id}", channel="email",
                           lang=body.lang, subject=body.subject,
                           lines=msgspec.to_builtins(body.lines))
    return wire.Queued(queued=queued)
