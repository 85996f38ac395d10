"""The `events` dataset: a branch's upcoming library events, which its signing pads show when
idle (title, start, place; a language, or every language)."""

import hashlib
from datetime import UTC, datetime

import msgspec

from central import datasets
from central.circulation.errors import NotFound, Refused
from central.circulation.store import Store
from edge_common.catalogues import LANGUAGES
from edge_common.protocol.forms import EVENTS, Event


def of_branch(s: Store, branch: str) -> dict[str, Event]:
    """The branch's events by key, soonest first."""
    s.branch(branch)
    decode = msgspec.json.Decoder(Event).decode
    found = {key: decode(raw) for key, raw in datasets.current(s.db, branch, EVENTS).items()}
    return dict(sorted(found.items(), key=lambda kv: (kv[1].starts, kv[0])))


def add(s: Store, branch: str, title: str, starts: datetime, place: str = "",
        lang: str | None = None) -> str:
    """Publish an event to the branch's pads; returns its key (to remove it by): its start
    in UTC and a digest of what it says, so the same event is not added twice."""
    s.branch(branch)
    if lang is not None and lang not in LANGUAGES:
        raise Refused(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}",
                      code="bad_language")
    if starts.tzinfo is None:
        raise Refused("give the start with its time zone (e.g. 2026-12-03T18:00+01:00)",
                      code="bad_date")
    try:
        row = msgspec.convert({"title": " ".join(title.split()), "starts": starts,
                               "place": place.strip(), "lang": lang}, Event)
    except msgspec.ValidationError as exc:
        raise Refused(f"event: {exc}", code="bad_value") from None
    said = msgspec.json.encode([row.title, row.place, row.lang])
    key = f"{starts.astimezone(UTC):%Y%m%d%H%M}-{hashlib.sha256(said).hexdigest()[:6]}"
    if key in of_branch(s, branch):
        raise Refused(f"the branch shows this event already ({key})", code="already_exists")
    with s.atomic():
        datasets.record(s.db, branch, EVENTS, {key: row})
    return key


def remove(s: Store, branch: str, key: str) -> None:
    """Take an event off the branch's pads."""
    if key not in of_branch(s, branch):
        raise NotFound(f"no event {key!r} at {branch}", code="event_unknown")
    with s.atomic():
        datasets.record(s.db, branch, EVENTS, {key: None})
