"""The circulation requests and events devices send, and central's answers (DESIGN §5).

A patron is named on the wire only by the keyed hash of a card the device read; dates are
ISO dates in the branch's calendar; money is in integer minor units.
"""

from datetime import date
from typing import Annotated, Literal

import msgspec

from edge_common.protocol.fields import (
    Amount,
    CardHash,
    Code,
    Count,
    Id,
    Identifier,
    Lang,
    Money,
    Ref,
)
from edge_common.protocol.spec import Answer, Body, Nothing, event, request

IdList = Annotated[list[Id], msgspec.Meta(max_length=500)]


class Card(Body):
    """`patron.identify` / `account.summary`: the card the patron presented."""

    card: CardHash


class Pin(Body):
    """`patron.verify_pin`: the PIN typed at the kiosk."""

    card: CardHash
    pin: Annotated[str, msgspec.Meta(max_length=16)]


class Checkout(Body):
    """`loan.checkout` (online) and `loan.checkout_offline` (queued, dated when it happened)."""

    card: CardHash
    item: Identifier


class Checkin(Body):
    """`loan.checkin`: an item handed back (by a known patron, when the device knows)."""

    item: Identifier
    card: CardHash | None = None


class Renew(Body):
    """`loan.renew`: chosen loans, or all of them when `loans` is absent."""

    card: CardHash
    loans: IdList | None = None


class HoldPlace(Body):
    """`hold.place`: a hold on the title of a copy, or on a title id, at the device's branch."""

    card: CardHash
    item: Identifier | None = None
    title: Id | None = None


class HoldCancel(Body):
    """`hold.cancel`: one of the patron's holds."""

    card: CardHash
    hold: Id


class Payment(Body):
    """`payment.record`: an approved terminal payment, queued before it is sent (ref = once)."""

    card: CardHash
    amount: Amount
    ref: Ref
    debts: IdList | None = None
    method: Literal["card", "cash"] = "card"


class ReceiptLine(Body):
    """One line of a kiosk receipt and how it is emphasised."""

    style: Literal["title", "heading", "text", "total"]
    text: Annotated[str, msgspec.Meta(max_length=200)]


class ReceiptEmail(Body):
    """`receipt.email`: a kiosk's or return box's receipt (already in the patron's language)
    to e-mail."""

    card: CardHash
    lang: Lang
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    lines: Annotated[list[ReceiptLine], msgspec.Meta(min_length=1, max_length=500)]


class PatronFacts(Answer):
    """What a device may show about a patron: a greeting name, never an address."""

    name: str
    category: str
    language: str | None = None
    valid_until: date | None = None
    blocked: bool = False
    staff: bool = False
    needs_pin: bool = False


class Identified(PatronFacts):
    """`patron.identify`: the patron, why they may not borrow here, whether e-mail is possible."""

    refusal: Code | None = None
    email_on_file: bool = False


class LoanLine(Answer):
    """One open loan on the account screen."""

    id: Id
    title: str
    barcode: str
    due: date
    author: str | None = None
    branch: str = ""
    renewals: Count = 0
    renewable: bool = False
    refusal: Code | None = None


class HoldLine(Answer):
    """One hold (or inter-branch request, id `ib<n>`) on the account screen."""

    id: Id | str
    title: str
    state: str
    branch: str
    pickup_by: date | None = None
    position: Count | None = None


class DebtLine(Answer):
    """One open debt of this branch."""

    id: Id
    kind: str
    amount: Money
    note: str = ""


class OwedElsewhere(Answer):
    """What is owed at another branch: shown, not paid here (pay it there)."""

    branch: str
    name: str
    amount: Money
    address: str = ""


class Summary(Answer):
    """`account.summary`: loans with renewability, holds, this branch's debts and the credit,
    and (when the debt limit counts every branch) what is owed at the others."""

    patron: PatronFacts
    loans: list[LoanLine]
    holds: list[HoldLine]
    debts: list[DebtLine]
    credit: Money
    currency: str
    elsewhere: list[OwedElsewhere] = []


class Lent(Answer):
    """`loan.checkout`: the loan made, with what the patron should be told."""

    loan: Id
    barcode: str
    title: str
    due: date
    author: str | None = None
    warnings: list[Code] = []
    attachments: str | None = None


class LentOffline(Answer):
    """`loan.checkout_offline`: whether the queued loan was recorded, and the alerts it raised."""

    recorded: bool
    loan: Id | None = None
    due: date | None = None
    alert: Code | None = None
    alerts: list[Code] = []


class Returned(Answer):
    """`loan.checkin`: where the copy goes now (`route`, `to`) and what it cost, with what a
    return box's bin rules route by (`category`, `call_number`, `home` branch).

    `route` is `hold_shelf` (a hold is waiting: `pickup_by` and the hold slip's `hold` number
    and `hold_for`, the name a desk's hold slip shows: first name and surname initial),
    `transit` (to branch `to`), `ib_set_aside` (set aside to send to branch `to` for an
    inter-branch hold) or `reshelve`. A copy only passing through (in transit elsewhere) is
    routed on with the warning `item_in_transit` and nothing changes.
    """

    barcode: str
    title: str
    route: str
    to: str
    fine: Money = 0
    late_days: Count = 0
    attachments: str | None = None
    pickup_by: date | None = None
    warnings: list[Code] = []
    category: str = ""
    call_number: str = ""
    home: str = ""
    hold: Id | None = None
    hold_for: str = ""


class Renewal(Answer):
    """The outcome of renewing one loan."""

    loan: Id
    ok: bool
    due: date | None = None
    title: str = ""
    barcode: str = ""
    refusal: Code | None = None


class Renewals(Answer):
    """`loan.renew`: each loan's own outcome."""

    renewals: list[Renewal]


class HoldPlaced(Answer):
    """`hold.place`: the hold and its place in the queue."""

    hold: Id
    position: Count | None = None


class HoldCancelled(Answer):
    """`hold.cancel`: the hold that was cancelled."""

    hold: Id


class Paid(Answer):
    """`payment.record`: the receipt number, what went to credit, the credit and what is owed."""

    receipt: str
    to_credit: Money
    credit: Money
    owed: Money


class Queued(Answer):
    """`receipt.email`: whether a new notice was queued (False: it already was)."""

    queued: bool


DEVICES_WITH_PATRONS = {"kiosk", "signpad", "returnbox"}
PATRON_IDENTIFY = request("patron.identify", Card, Identified, senders=DEVICES_WITH_PATRONS)
PATRON_VERIFY_PIN = request("patron.verify_pin", Pin, Nothing, senders={"kiosk"})
ACCOUNT_SUMMARY = request("account.summary", Card, Summary, senders={"kiosk", "signpad"})
LOAN_CHECKOUT = request("loan.checkout", Checkout, Lent, senders={"kiosk"})
LOAN_CHECKOUT_OFFLINE = event("loan.checkout_offline", Checkout, LentOffline,
                              senders={"kiosk"})
LOAN_CHECKIN = request("loan.checkin", Checkin, Returned, senders={"kiosk", "returnbox"})
LOAN_RENEW = request("loan.renew", Renew, Renewals, senders={"kiosk", "signpad"})
HOLD_PLACE = request("hold.place", HoldPlace, HoldPlaced, senders={"kiosk"})
HOLD_CANCEL = request("hold.cancel", HoldCancel, HoldCancelled, senders={"kiosk"})
PAYMENT_RECORD = event("payment.record", Payment, Paid, senders={"kiosk"})
RECEIPT_EMAIL = event("receipt.email", ReceiptEmail, Queued, senders={"kiosk", "returnbox"})
