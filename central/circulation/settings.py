"""Library-wide circulation settings: which checks apply and the numbers they use."""

from typing import Annotated, Any, Literal

import msgspec

from central.circulation.bounds import CURRENCY, EMAIL, MAX_AMOUNT, PLAIN
from central.database import Database
from edge_common.protocol.forms import FormKind

Switch = Literal["off", "warn", "block"]
Days = Annotated[int, msgspec.Meta(ge=0, le=3650)]
Money = Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT)]
Count = Annotated[int, msgspec.Meta(ge=0, le=10_000)]
Plain = Annotated[str, msgspec.Meta(max_length=254, pattern=PLAIN)]


class ReminderLevel(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An overdue notice sent `after_days` past the due date, with its fee."""

    after_days: Annotated[int, msgspec.Meta(ge=1, le=3650)]
    fee: Money = 0


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Every switchable check of checkout, return, holds, reminders and cleanup; mail sending."""

    currency: Annotated[str, msgspec.Meta(pattern=CURRENCY)] = "EUR"
    check_may_borrow: bool = True
    check_rules: bool = True
    check_blocked: bool = True
    check_membership: bool = True
    debt_limit: Money | None = 1000
    # which debts count against the limit: the lending branch's own (TextLib: a branch shows
    # and takes only its own), or every branch's (then desk and kiosk show the others' too)
    debt_scope: Literal["branch", "network"] = "branch"
    same_title_now: Switch = "warn"
    same_title_before: Switch = "off"
    unknown_item: Literal["error", "generic", "quick"] = "error"
    # another branch's item returned here: refused (TextLib), or taken and sent home in
    # transit (a network whose return boxes take any branch's books)
    other_branch_returns: Literal["refuse", "transit"] = "refuse"
    # a member whose registration form is not signed: lend anyway, warn the desk, or refuse
    unsigned_form: Switch = "warn"
    pickup_days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 7
    hold_expiry_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 180
    due_warning_days: Days = 3
    reminders: Annotated[tuple[ReminderLevel, ...], msgspec.Meta(max_length=20)] = (
        ReminderLevel(7, 100), ReminderLevel(21, 200), ReminderLevel(35, 300),
    )
    # charged to the borrower when staff mark a copy on loan lost or damaged, by item
    # category ("*": every other category; 0: no charge)
    replacement_charge: dict[str, Money] = msgspec.field(default_factory=lambda: {"*": 2500})
    cleanup_after_days: Annotated[int, msgspec.Meta(ge=1, le=36500)] = 90
    offline_max_items: Count = 5
    # what door lists say instead of birth dates and amounts: the age thresholds a holder has
    # reached, and whether they owe more than this (doors choose which of these they enforce)
    door_ages: Annotated[tuple[Annotated[int, msgspec.Meta(ge=1, le=120)], ...],
                         msgspec.Meta(max_length=10)] = (16, 18)
    door_debt_limit: Money | None = 1000
    # used when the branch has no e-mail address of its own
    mail_from: Annotated[str, msgspec.Meta(max_length=254, pattern=f"{EMAIL}|^$")] = ""
    smtp_host: Annotated[str, msgspec.Meta(max_length=253, pattern=r"^[A-Za-z0-9.:\[\]-]*$")] = ""
    smtp_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 587
    smtp_security: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_username: Plain = ""  # the password is never stored: LIBEDGE_SMTP_PASSWORD
    # where signed forms and the seal are kept: an absolute folder ("" beside a SQLite store's
    # file; a PostgreSQL store needs one named)
    archive_dir: Annotated[str, msgspec.Meta(max_length=4096, pattern=r"^(/[^\x00]*)?$")] = ""
    # days a signed form of a kind is kept after it was archived (a kind not named: as long
    # as the member exists; erasure deletes every form at once)
    form_retention_days: dict[FormKind, Annotated[int, msgspec.Meta(ge=1, le=36500)]] = {}


_decode = msgspec.json.Decoder()
_encode = msgspec.json.Encoder()


def load(db: Database) -> Settings:
    """The stored settings over the defaults."""
    stored = {k: _decode.decode(v) for k, v in db.execute("SELECT key, value FROM settings")}
    return msgspec.convert(stored, Settings)


def store(db: Database, **values: Any) -> Settings:
    """Validate and store changed settings; return the result."""
    merged = msgspec.structs.replace(load(db), **values)
    checked = msgspec.convert(msgspec.to_builtins(merged), Settings)
    with db.transaction():
        db.executemany(
            "INSERT INTO settings VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(k, _encode.encode(v).decode()) for k, v in values.items()],
        )
    return checked
