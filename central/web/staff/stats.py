"""The access statistics page and its CSV exports, for a branch, room or door and a period."""

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from central import access_counts, access_stats
from central.circulation.signin import Session
from central.web.auth import (
    Form,
    bounded,
    branch_choices,
    chosen_branch,
    record,
    route,
    signed_in,
    store,
)
from central.web.errors import WebError
from central.web.render import page
from central.web.staff import VIEW

DEFAULT_DAYS = 28
MAX_DAYS = 732          # two years in one view


@dataclass(frozen=True)
class Filters:
    """What a statistics request asks for, checked."""

    branch: str
    room: str | None
    door: str | None
    start: date
    end: date
    compare: tuple[date, date] | None
    places: list[tuple[str, str]]     # the branch's (room, door) pairs, for the choices


def _filters(request: Request, session: Session) -> Filters:
    q = request.query_params
    branch = chosen_branch(request, session, VIEW)
    today = store(request).today(branch)
    end = _day(q, "end") or today
    start = _day(q, "start") or end - timedelta(days=DEFAULT_DAYS - 1)
    _span(start, end)
    places = access_counts.places(store(request).db, branch)
    room = bounded("room", q.get("room", "")) or None
    door = bounded("door", q.get("door", "")) or None
    if room is not None and room not in {r for r, _ in places}:
        raise WebError(f"{branch} has no room {room!r} in its access log", code="room_unknown",
                       status=404)
    if door is not None and door not in {d for r, d in places if room in (None, r)}:
        raise WebError(f"{branch} has no door {door!r} there", code="door_unknown", status=404)
    first, last = _day(q, "compare_start"), _day(q, "compare_end")
    if (first is None) != (last is None):
        raise WebError("a second period needs both its first and its last day",
                       code="bad_range")
    if first is not None and last is not None:
        _span(first, last)
    return Filters(branch, room, door, start, end,
                   (first, last) if first is not None and last is not None else None, places)


def _day(q: QueryParams, name: str) -> date | None:
    text = bounded(name, q.get(name, ""))
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise WebError(f"{name}: {text!r} is not a date (YYYY-MM-DD)", code="bad_date") from None


def _span(start: date, end: date) -> None:
    if end < start:
        raise WebError("the last day comes before the first", code="bad_range")
    if (end - start).days + 1 > MAX_DAYS:
        raise WebError(f"at most {MAX_DAYS} days at a time", code="range_too_long")


def _figures(request: Request, f: Filters, start: date, end: date) -> access_stats.Figures:
    db = store(request).db
    return access_stats.figures(access_counts.hours(db, f.branch, start, end, f.room, f.door),
                                access_counts.days(db, f.branch, start, end, f.room),
                                start, end)


def stats(request: Request, form: Form) -> Response:
    """The statistics page."""
    session = signed_in(request, *VIEW)
    f = _filters(request, session)
    first = _figures(request, f, f.start, f.end)
    second = _figures(request, f, *f.compare) if f.compare else None
    return page(request, "stats.html", session=session, f=f, figures=first, other=second,
                comparison=access_stats.compare(first, second) if second else None,
                level=access_stats.level, places=f.places,
                branches=branch_choices(request, session),
                tables=list(access_stats.tables(first, second)))


def export(request: Request, form: Form) -> Response:
    """One table of the page as CSV (card hashes never appear: the tables hold counts)."""
    session = signed_in(request, *VIEW)
    f = _filters(request, session)
    name = bounded("table", request.query_params.get("table", ""))
    first = _figures(request, f, f.start, f.end)
    found = access_stats.tables(first, _figures(request, f, *f.compare) if f.compare else None)
    if name not in found:
        raise WebError(f"no table {name!r}: one of {', '.join(found)}", code="table_unknown",
                       status=404)
    header, rows = found[name]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    record(request, session, f.branch, "stats.export", f"access:{f.branch}",
           {"table": name, "start": f.start, "end": f.end, "room": f.room, "door": f.door}, "ok")
    filename = f"access-{f.branch}-{name}-{f.start}-{f.end}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def routes() -> list[Route]:
    """The statistics page's routes."""
    return [route("/stats", stats), route("/stats.csv", export)]
