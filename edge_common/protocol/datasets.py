"""The datasets central replicates to a site's devices, their rows, and the messages carrying them.

Every dataset is keyed by a string and versioned per site (DESIGN §4). A row's Struct is
what both central (when it publishes) and devices (when they apply and read) use.
"""

from datetime import date
from typing import Annotated, Any

import msgspec

from edge_common.protocol.fields import DatasetName, FreeForm, Identifier, Text, Version
from edge_common.protocol.forms import EVENTS, Event
from edge_common.protocol.returns import HELD_ITEMS, SHELF_ITEMS, HeldItem, ShelfItem
from edge_common.protocol.spec import Answer, Body, request

ALLOWLIST = "allowlist"
CALENDAR = "calendar"
MESSAGES = "messages"
ANY_LANGUAGE = "*"
JSON_PAGE = 5000  # rows a page of a pull holds at most in the JSON form, well inside MAX_PAYLOAD
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class AllowEntry(msgspec.Struct, frozen=True, kw_only=True):
    """An `allowlist` row, keyed by card hash: what doors and kiosks know of a card's holder.

    The least a device needs (DESIGN §5): no name, no address, no birth date, no amount owed.
    `ages` are the library's door age thresholds the holder has reached (central's setting
    `door_ages`, e.g. 16 and 18); `over_debt_limit` says the holder owes more than the
    library's door debt limit. The short wire names keep a million rows small.
    """

    category: Identifier = msgspec.field(name="cat")
    blocked: bool = msgspec.field(name="blk", default=False)
    valid_until: date | None = msgspec.field(name="exp", default=None)
    staff: bool = False
    ages: Annotated[tuple[Annotated[int, msgspec.Meta(ge=0, le=150)], ...],
                    msgspec.Meta(max_length=10)] = msgspec.field(name="age", default=())
    over_debt_limit: bool = msgspec.field(name="owe", default=False)
    agreement: bool = msgspec.field(name="agr", default=False)

    def expired_on(self, day: date) -> bool:
        """Whether the membership had ended by `day` (no end date: it never ends)."""
        return self.valid_until is not None and self.valid_until < day


class ClosedDay(msgspec.Struct, frozen=True, kw_only=True):
    """A `calendar` row, keyed by ISO date (`2026-12-25`): the branch is closed that day."""

    reason: Text | None = None


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """A `messages` row, keyed by language code (or "*" for every language without its own):
    the branch's message of the day on its patron screens."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


ROWS: dict[str, type[msgspec.Struct]] = {ALLOWLIST: AllowEntry, CALENDAR: ClosedDay,
                                         MESSAGES: Message, HELD_ITEMS: HeldItem,
                                         SHELF_ITEMS: ShelfItem, EVENTS: Event}
_decoders: dict[str, msgspec.json.Decoder[Any]] = {
    name: msgspec.json.Decoder(row) for name, row in ROWS.items()}
_any_row = msgspec.json.Decoder(dict[str, Any])


def decode_row(dataset: str, raw: bytes) -> Any:
    """A stored row's JSON as its Struct; raises msgspec.ValidationError/DecodeError."""
    return _decoders[dataset].decode(raw)


def check_raw_row(dataset: str, raw: bytes) -> None:
    """Raise ValueError unless `raw` is the JSON of a valid row of `dataset` (of an unknown
    dataset: of any JSON object)."""
    try:
        _decoders.get(dataset, _any_row).decode(raw)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise ValueError(f"{dataset} row: {exc}") from exc


def check_row(dataset: str, value: object) -> None:
    """Raise ValueError unless `value` is a valid row of `dataset` (unknown datasets pass)."""
    row = ROWS.get(dataset)
    if row is not None:
        try:
            msgspec.convert(value, row)
        except msgspec.ValidationError as exc:
            raise ValueError(f"{dataset} row: {exc}") from exc


Change = tuple[Key, FreeForm | None]


class SyncDelta(Body):
    """`sync.delta` (published on the site's sync topic): version `version` of a dataset."""

    dataset: DatasetName
    version: Annotated[int, msgspec.Meta(ge=1, le=2**53)]
    changes: Annotated[list[Change], msgspec.Meta(max_length=10_000)]


class SyncPull(Body):
    """`sync.pull`: the changes of a dataset after the device's (version, key) cursor;
    `format` 2 asks for pages packed small (`protocol.packed`)."""

    dataset: DatasetName
    since: Version
    after: Annotated[str, msgspec.Meta(max_length=128)] = ""
    limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 5000
    format: Annotated[int, msgspec.Meta(ge=1, le=2)] = 1


class Cursor(msgspec.Struct, frozen=True):
    """Where the next page of a pull starts."""

    since: Version
    after: Key


class SyncPage(Answer):
    """A page of a pull: the latest value of each changed key, in `changes` or, asked with
    `format` 2, in `packed`; `next` when more follow."""

    dataset: DatasetName
    head: Version
    changes: list[Change]
    next: Cursor | None = None
    packed: str | None = None


SYNC_PULL = request("sync.pull", SyncPull, SyncPage)
