"""Access statistics from the hourly counts, without I/O: the weekday × hour heatmap, visits per
day, occupancy over the day, average stay, denials by reason, busiest hours, two periods."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from central.access_counts import EXIT_BUTTON, GRANTED, DayCount, HourCount

Table = tuple[list[str], list[list[object]]]
BUSIEST = 5


@dataclass
class Figures:
    """Everything the statistics page shows for one period."""

    start: date
    end: date
    heatmap: list[list[int]] = field(default_factory=lambda: [[0] * 24 for _ in range(7)])
    per_day: list[dict[str, object]] = field(default_factory=list)
    occupancy: list[float] = field(default_factory=lambda: [0.0] * 24)
    denials: dict[str, int] = field(default_factory=dict)
    entries: int = 0
    exits: int = 0
    visits: int = 0
    stays: int = 0
    stay_seconds: float = 0.0

    @property
    def denied(self) -> int:
        """All refused presentations."""
        return sum(self.denials.values())

    @property
    def average_stay_minutes(self) -> float | None:
        """Mean length of the finished stays, in minutes (None: no stay finished)."""
        return self.stay_seconds / self.stays / 60 if self.stays else None

    @property
    def busiest(self) -> list[tuple[int, int, int]]:
        """The busiest (weekday, hour, entries), most entries first."""
        cells = [(n, -w, -h) for w, row in enumerate(self.heatmap) for h, n in enumerate(row)]
        return [(-w, -h, n) for n, w, h in sorted(cells, reverse=True)[:BUSIEST] if n]

    @property
    def peak(self) -> int:
        """The heatmap's largest cell."""
        return max(max(row) for row in self.heatmap)


def figures(hours: list[HourCount], days: list[DayCount], start: date, end: date) -> Figures:
    """The period's figures from its hourly counts and its day counts."""
    f = Figures(start, end)
    entries: Counter[date] = Counter()
    denied: Counter[date] = Counter()
    moves: dict[date, list[int]] = {}                    # per day, net entries per hour
    reasons: Counter[str] = Counter()
    for c in hours:
        if c.result == GRANTED and c.direction == "in":
            f.heatmap[c.day.weekday()][c.hour] += c.n
            entries[c.day] += c.n
            moves.setdefault(c.day, [0] * 24)[c.hour] += c.n
        elif c.direction == "out" and c.result in (GRANTED, EXIT_BUTTON):
            f.exits += c.n
            moves.setdefault(c.day, [0] * 24)[c.hour] -= c.n
        elif c.result not in (GRANTED, EXIT_BUTTON):
            reasons[c.result] += c.n
            denied[c.day] += c.n
    f.entries = sum(entries.values())
    f.denials = dict(reasons.most_common())
    visits = {d.day: d for d in days}
    f.visits = sum(d.visits for d in days)
    f.stays = sum(d.stays for d in days)
    f.stay_seconds = sum(d.stay_seconds for d in days)
    span = (end - start).days + 1
    for i in range(span):
        day = start + timedelta(days=i)
        f.per_day.append({"day": day, "entries": entries[day], "denials": denied[day],
                          "visits": visits[day].visits if day in visits else 0})
        inside = 0
        for hour, net in enumerate(moves.get(day, [0] * 24)):
            inside = max(0, inside + net)
            f.occupancy[hour] += inside / span
    return f


def compare(a: Figures, b: Figures) -> list[tuple[str, float | None, float | None,
                                                   float | None]]:
    """Measures of two periods side by side with the change from the first, in percent."""
    rows = [("entries", a.entries, b.entries), ("visits", a.visits, b.visits),
            ("denials", a.denied, b.denied), ("exits", a.exits, b.exits),
            ("average_stay_minutes", a.average_stay_minutes, b.average_stay_minutes)]
    return [(name, x, y, (y - x) / x * 100 if x and y is not None else None)
            for name, x, y in rows]


def tables(f: Figures, other: Figures | None = None) -> dict[str, Table]:
    """Every table of the page, as CSV exports them (stable English headers)."""
    found: dict[str, Table] = {
        "heatmap": (["weekday", *[f"{h:02d}" for h in range(24)]],
                    [[w, *row] for w, row in enumerate(f.heatmap)]),
        "days": (["day", "entries", "visits", "denials"],
                 [[d["day"], d["entries"], d["visits"], d["denials"]] for d in f.per_day]),
        "occupancy": (["hour", "people_inside"],
                      [[h, round(n, 2)] for h, n in enumerate(f.occupancy)]),
        "denials": (["reason", "count"], [[r, n] for r, n in f.denials.items()]),
        "busiest": (["weekday", "hour", "entries"], [list(b) for b in f.busiest]),
        "summary": (["measure", "value"],
                    [["entries", f.entries], ["visits", f.visits], ["denials", f.denied],
                     ["exits", f.exits], ["average_stay_minutes", _rounded(
                         f.average_stay_minutes)]]),
    }
    if other is not None:
        found["comparison"] = (
            ["measure", "first", "second", "change_percent"],
            [[m, _rounded(x), _rounded(y), _rounded(c)] for m, x, y, c in compare(f, other)])
    return found


def level(n: int, peak: int) -> int:
    """A heatmap cell's shade, 0 (none) to 5 (the peak)."""
    return 0 if not n or not peak else max(1, round(5 * n / peak))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
