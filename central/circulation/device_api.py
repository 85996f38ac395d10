"""The circulation requests and events devices send, applied exactly once by central's ingest.

A patron is named on the wire only by the keyed hash of a card the device read; refusals are
stable codes (`patron_blocked`, `item_other_branch`, `hold_waiting`, ...) the UIs translate.
Offline work (checkouts queued by a kiosk, returns taken by a return box) arrives as events
dated when they happened; conflicts become staff alerts instead of lost facts.
"""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from central.circulation import accounts, alerts, holds, loans, notices, patrons, summary
from central.circulation.errors import Refused
from central.circulation.store import Store
from central.handlers import Context, handler

CardHash = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**53)]
Amount = Annotated[int, msgspec.Meta(gt=0, le=10_000_000)]
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Lang = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
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
    s.clock.at = at or ctx.now
    return s


def _patron(s: Store, ctx: Context, card: str) -> dict:
    return patrons.by_card_hash(s, ctx.device.site, card)


class Card(msgspec.Struct, forbid_unknown_fields=True):
    """`patron.identify` / `account.summary`: the card the patron presented."""

    card: CardHash


class Pin(msgspec.Struct, forbid_unknown_fields=True):
    """`patron.verify_pin`: the PIN typed at the kiosk."""

    card: CardHash
    pin: Annotated[str, msgspec.Meta(max_length=16)]


class Checkout(msgspec.Struct, forbid_unknown_fields=True):
    """`loan.checkout` (online) and `loan.checkout_offline` (queued, `at` = when it happened)."""

    card: CardHash
    item: Identifier


class Checkin(msgspec.Struct, forbid_unknown_fields=True):
    """`loan.checkin`: an item handed back (by a known patron, when the device knows)."""

    item: Identifier
    card: CardHash | None = None


class Renew(msgspec.Struct, forbid_unknown_fields=True):
    """`loan.renew`: chosen loans, or all of them when `loans` is absent."""

    card: CardHash
    loans: Annotated[list[Id], msgspec.Meta(max_length=500)] | None = None


class HoldPlace(msgspec.Struct, forbid_unknown_fields=True):
    """`hold.place`: a hold on the title of a copy, or on a title id, at the device's branch."""

    card: CardHash
    item: Identifier | None = None
    title: Id | None = None


class HoldCancel(msgspec.Struct, forbid_unknown_fields=True):
    """`hold.cancel`: one of the patron's holds."""

    card: CardHash
    hold: Id


class Payment(msgspec.Struct, forbid_unknown_fields=True):
    """`payment.record`: an approved terminal payment, queued before it is sent (ref = once)."""

    card: CardHash
    amount: Amount
    ref: Ref
    debts: Annotated[list[Id], msgspec.Meta(max_length=500)] | None = None
    method: Literal["card", "cash"] = "card"


class ReceiptLine(msgspec.Struct, forbid_unknown_fields=True):
    """One line of a kiosk receipt and how it is emphasised."""

    style: Literal["title", "heading", "text", "total"]
    text: Annotated[str, msgspec.Meta(max_length=200)]


class ReceiptEmail(msgspec.Struct, forbid_unknown_fields=True):
    """`receipt.email`: a kiosk receipt (already in the patron's language) to e-mail."""

    card: CardHash
    lang: Lang
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    lines: Annotated[list[ReceiptLine], msgspec.Meta(min_length=1, max_length=500)]


@handler("patron.identify", Card, read_only=True, kinds={"kiosk", "signpad", "returnbox"})
def identify(ctx: Context, body: Card) -> dict:
    """Who holds the card, may they borrow here, is a PIN asked, can a receipt be e-mailed.

    The e-mail address itself never leaves central: the device learns only that there is one.
    """
    s = store(ctx)
    p = _patron(s, ctx, body.card)
    refusals = holds.patron_refusals(s, p, ctx.device.site)
    return summary.summary(s, p["id"], ctx.device.site)["patron"] | {
        "refusal": refusals[0] if refusals else None, "email_on_file": notices.has_email(p)}


@handler("patron.verify_pin", Pin, read_only=True, kinds={"kiosk"})
def verify_pin(ctx: Context, body: Pin) -> dict:
    """Check the patron's kiosk PIN."""
    s = store(ctx)
    if not patrons.check_pin(s, _patron(s, ctx, body.card)["id"], body.pin):
        raise Refused("wrong PIN", code="pin_wrong")
    return {}


@handler("account.summary", Card, read_only=True, kinds={"kiosk", "signpad"})
def account(ctx: Context, body: Card) -> dict:
    """Loans with renewability, holds by state, this branch's debts and the credit."""
    s = store(ctx)
    return summary.summary(s, _patron(s, ctx, body.card)["id"], ctx.device.site)


@handler("loan.checkout", Checkout, kinds={"kiosk"})
def checkout(ctx: Context, body: Checkout) -> dict:
    """Lend an item at the device's branch."""
    s = store(ctx)
    return loans.checkout(s, _patron(s, ctx, body.card)["id"], body.item, ctx.device.site)


@handler("loan.checkout_offline", Checkout, kinds={"kiosk"})
def checkout_offline(ctx: Context, body: Checkout) -> dict:
    """Record a loan the kiosk made offline; what a check would have refused becomes an alert."""
    s = store(ctx, ctx.sent_at)
    site = ctx.device.site
    p = _patron(s, ctx, body.card)
    passed: list[str] = []
    while True:
        try:
            done = loans.checkout(s, p["id"], body.item, site, overrides=frozenset(passed))
            break
        except Refused as exc:
            if exc.code not in ALL_OVERRIDES or exc.code in passed:
                alerts.raise_alert(s, site, "offline_checkout", exc.code, ctx.device.id,
                                   ctx.message_id, patron=p["id"], item=body.item)
                return {"recorded": False, "alert": exc.code}
            passed.append(exc.code)
    for code in passed:
        alerts.raise_alert(s, site, "offline_checkout", code, ctx.device.id, ctx.message_id,
                           patron=p["id"], item=body.item, loan=done["loan"])
    return done | {"recorded": True, "alerts": passed}


@handler("loan.checkin", Checkin, kinds={"kiosk", "returnbox"})
def checkin(ctx: Context, body: Checkin) -> dict:
    """Take an item back, dated when the device took it; the answer says where it goes."""
    s = store(ctx, min(ctx.sent_at, ctx.now))
    patron_id = _patron(s, ctx, body.card)["id"] if body.card else None
    return loans.checkin(s, body.item, ctx.device.site, patron_id=patron_id)


@handler("loan.renew", Renew, kinds={"kiosk", "signpad"})
def renew(ctx: Context, body: Renew) -> dict:
    """Renew chosen loans (or all); each loan gets its own outcome."""
    s = store(ctx)
    pid = _patron(s, ctx, body.card)["id"]
    if body.loans is None:
        return {"renewals": loans.renew_all(s, pid, branches=[ctx.device.site])}
    outcomes = []
    for loan_id in dict.fromkeys(body.loans):
        try:
            outcomes.append(loans.renew(s, loan_id, patron_id=pid, branch=ctx.device.site))
        except Refused as exc:
            outcomes.append({"loan": loan_id, "ok": False, "due": None, "refusal": exc.code})
    return {"renewals": outcomes}


@handler("hold.place", HoldPlace, kinds={"kiosk"})
def hold_place(ctx: Context, body: HoldPlace) -> dict:
    """Place a hold at the device's branch."""
    s = store(ctx)
    target = body.item if body.item is not None else body.title
    if target is None:
        raise Refused("name an item or a title", code="bad_body")
    found = holds.place(s, _patron(s, ctx, body.card)["id"], target, ctx.device.site)
    return {"hold": found["id"], "position": found["position"]}


@handler("hold.cancel", HoldCancel, kinds={"kiosk"})
def hold_cancel(ctx: Context, body: HoldCancel) -> dict:
    """Cancel one of the patron's holds."""
    s = store(ctx)
    holds.cancel(s, body.hold, patron_id=_patron(s, ctx, body.card)["id"])
    return {"hold": body.hold}


@handler("payment.record", Payment, kinds={"kiosk"})
def payment(ctx: Context, body: Payment) -> dict:
    """Record an approved payment once (the terminal reference is its identity)."""
    s = store(ctx, ctx.sent_at)
    pid = _patron(s, ctx, body.card)["id"]
    done = accounts.pay(s, pid, ctx.device.site, body.amount, debt_ids=body.debts,
                        method=body.method, dev=ctx.device.id, ref=f"{ctx.device.id}:{body.ref}")
    return {"receipt": done["receipt_no"], "to_credit": done["to_credit"],
            "credit": done["credit"], "owed": done["owed"]}


@handler("receipt.email", ReceiptEmail, kinds={"kiosk"})
def receipt_email(ctx: Context, body: ReceiptEmail) -> dict:
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
    return {"queued": queued}
