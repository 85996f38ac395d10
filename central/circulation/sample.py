"""Sample data for a city library network: branches, patrons, items and a year of history.

`generate()` writes a realistic network in bulk (tens of branches, hundreds of thousands of
patrons, a million items) consistent with the domain's invariants; `tiny()` makes the small
library `make demo` runs on, with the demo cards listed in DEMO_CARDS.
Run `python -m central.staff_cli.generate --db PATH [--scale 0.01]`.
"""

import random
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any

from central import fleet
from central.circulation import (
    allowlist,
    audit,
    basics,
    branches,
    calendar,
    messages,
    patrons,
    return_sets,
)
from central.circulation.folding import fold
from central.circulation.store import Store

BRANCH_NAMES = [
    "Center", "Šiška", "Bežigrad", "Moste", "Vič", "Polje", "Rudnik", "Trnovo", "Črnuče",
    "Šentvid", "Dravlje", "Fužine", "Kodeljevo", "Jarše", "Savsko naselje", "Zalog", "Ig",
    "Škofljica", "Brezovica", "Vodice", "Medvode", "Dobrova", "Horjul", "Velike Lašče",
    "Grosuplje", "Domžale", "Kamnik", "Litija", "Vrhnika", "Logatec", "Borovnica", "Dol",
]
SURNAMES = ["Novak", "Horvat", "Kovačič", "Krajnc", "Zupančič", "Potočnik", "Kovač", "Mlakar",
            "Kos", "Vidmar", "Golob", "Turk", "Božič", "Kralj", "Zupan", "Bizjak", "Hribar",
            "Korošec", "Rozman", "Kotnik", "Dvořák", "Nagy", "Wang", "Li", "Tóth", "Svoboda"]
FIRST = ["Ana", "Marko", "Maja", "Luka", "Eva", "Jan", "Nina", "Žiga", "Sara", "Tim",
         "Petra", "Matej", "Špela", "Gregor", "Zala", "Jakub", "Eszter", "Mei", "Wei", "Lea"]
WORDS = ["Na", "klancu", "Alamut", "Kekec", "Nekropola", "Sama", "Integrali", "Poezije",
         "Juri", "Muri", "Pekarna", "Mišmaš", "Zlata", "ribica", "Cvetje", "jeseni", "Hlapci",
         "Visoška", "kronika", "Čefurji", "raus", "Ljubezen", "tudi", "Modra", "ptica"]
PATRON_MIX = [("adult", 55), ("child", 15), ("student", 15), ("senior", 12), ("staff", 1),
              ("legal", 2)]
ITEM_MIX = [("book", 85), ("dvd", 5), ("magazine", 5), ("audiobook", 3), ("reference", 2)]
LANGUAGES = [("sl", 80), ("en", 8), ("cs", 4), ("hu", 4), ("zh", 4)]
DEMO_STAFF = [("desk", "Desk clerk", "clerk"), ("admin", "Administrator", "admin")]
DEMO_MESSAGES = {"*": "Open today until 20:00. The reading room is on the second floor.",
                 "sl": "Danes odprto do 20.00. Čitalnica je v drugem nadstropju."}
DEMO_CARDS = [  # uid, what it shows, category, blocked, membership days left, staff
    ("04A1B2C3", "a member in good standing", "adult", 0, 365, 0),
    ("04D4E5F6", "a blocked member", "adult", 1, 365, 0),
    ("04AA0001", "an expired membership", "student", 0, -30, 0),
    ("04FF0001", "a staff card", "staff", 0, 3650, 1),
]
DEMO_SITE = "center"
CHUNK = 50_000
Row = tuple[Any, ...]


def _pick(rng: random.Random, mix: list[tuple[str, int]], n: int) -> list[str]:
    return rng.choices([k for k, _ in mix], weights=[w for _, w in mix], k=n)


def _slug(name: str) -> str:
    table = str.maketrans("čšžČŠŽ ", "cszcsz-")
    return name.translate(table).lower()


def _branches(s: Store, count: int, year: int) -> list[str]:
    ids = []
    for n, name in enumerate(islice(BRANCH_NAMES * 4, count)):
        bid = _slug(name) + (f"-{n // len(BRANCH_NAMES)}" if n >= len(BRANCH_NAMES) else "")
        basics.add_branch(s, bid, f"{name} Library")
        if n % 5 == 4:   # every fifth branch keeps its own calendar
            own = {date(year, m, d): why for m, d, why in basics.HOLIDAYS}
            own[date(year, 8, 3)] = "summer inventory"
            branches.set_closed_days(s, year, own, branch=bid)
        ids.append(bid)
    return ids


def _chunks(rows: Iterable[Row], size: int = CHUNK) -> Iterator[list[Row]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(s: Store, sql: str, rows: Iterable[Row], ids_of: str = "") -> int:
    """Insert the rows in chunks; `ids_of`: the table whose ids they give."""
    n = 0
    for batch in _chunks(rows):
        s.db.executemany(sql, batch)
        n += len(batch)
    if ids_of:
        s.db.ids_given(ids_of)
    return n


class _Dates:
    """Open-day lookups for every branch over the generated period."""

    def __init__(self, s: Store, ids: list[str], first: date, last: date) -> None:
        self.open_on: dict[str, list[date | None]] = {}
        for bid in ids:
            cal = calendar.load(s.db, bid, range(first.year, last.year + 2))
            days = [first + timedelta(days=n) for n in range((last - first).days + 400)]
            nxt: date | None = None
            out: list[date | None] = []
            for d in reversed(days):
                nxt = d if cal.is_open(d) else nxt
                out.append(nxt)
            self.open_on[bid] = list(reversed(out))
        self.first = first

    def due(self, branch: str, day: date) -> date:
        """The first open day on or after `day` at the branch."""
        found = self.open_on[branch][(day - self.first).days]
        assert found is not None, f"{branch} has no open day in 400 days after {day}"
        return found


def generate(s: Store, branches: int = 30, patrons: int = 200_000, items: int = 1_000_000,
             days: int = 365, seed: int = 1,
             progress: Callable[[str], object] = lambda msg: None) -> dict[str, int]:
    """Write a whole network in one transaction; return what was made."""
    rng = random.Random(seed)
    now = s.now()
    today = now.date()
    if not s.scalar("SELECT count(*) FROM patron_categories"):
        basics.install(s, range(today.year - 1, today.year + 3))
    with s.atomic():
        ids = _branches(s, branches, today.year)
        weights = [6 if n == 0 else 1 + (n % 3) for n in range(len(ids))]
        dates = _Dates(s, ids, today - timedelta(days=days + 60), today)
        progress(f"{len(ids)} branches")
        made = {"branches": len(ids)}
        made["patrons"] = _patrons(s, rng, patrons, ids, weights, today)
        progress(f"{patrons} patrons")
        made["items"] = _items(s, rng, items, ids, weights)
        progress(f"{items} items")
        made |= _history(s, rng, dates, today, days, now)
        progress("history")
        _counts(s)
        for site in fleet.keyed_sites(s.db):
            allowlist.publish_site(s.db, site)
            return_sets.publish_site(s.db, site)
    return made


def _patrons(s: Store, rng: random.Random, count: int, ids: list[str], weights: list[int],
             today: date) -> int:
    cats = _pick(rng, PATRON_MIX, count)
    langs = _pick(rng, LANGUAGES, count)
    homes = rng.choices(ids, weights=weights, k=count)

    def rows() -> Iterator[Row]:
        for n in range(count):
            cat = cats[n]
            age = rng.randint(6, 14) if cat == "child" else rng.randint(18, 85)
            born = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
            status = "pre" if n % 67 == 66 else "active"
            until = today + timedelta(days=rng.randint(-120, 365))
            registered = datetime.combine(today - timedelta(days=rng.randint(1, 3000)), time(9))
            signed = status == "active" and n % 17 != 16      # 94 % have signed the form
            surname, first = rng.choice(SURNAMES), rng.choice(FIRST)
            yield (n + 1, cat, int(n % 199 == 198), until.isoformat() if status == "active"
                   else None, int(cat == "staff"), surname, first, fold(surname), fold(first),
                   born.isoformat(), int(cat == "legal"), f"reader{n + 1}@example.org",
                   langs[n], status, registered.isoformat() + "+00:00",
                   registered.isoformat() + "+00:00" if status == "active" else None,
                   homes[n], f"L{n + 1:08d}", int(signed))
    _insert(s, "INSERT INTO patrons (id, category, blocked, valid_until, is_staff, surname,"
            " first_name, surname_key, first_name_key, birth_date, legal_person, email, language,"
            " status, registered_at, completed_at, home_branch, library_card, form_signed) VALUES"
            " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows(), ids_of="patrons")
    _insert(s, "INSERT INTO cards VALUES (?, ?, ?, 1)",
            ((f"L{n:08d}", n, "library") for n in range(1, count + 1)))
    _insert(s, "INSERT INTO cards VALUES (?, ?, ?, 1)",
            ((f"04{n:012X}", n, "city") for n in range(1, count + 1) if n % 10 < 7))
    return count


def _items(s: Store, rng: random.Random, count: int, ids: list[str],
           weights: list[int]) -> int:
    titles = max(1, count // 3)
    _insert(s, "INSERT INTO titles (id, title, author, isbn) VALUES (?, ?, ?, ?)",
            ((n, " ".join(rng.sample(WORDS, 3)).capitalize() + f" {n}",
              f"{rng.choice(FIRST)} {rng.choice(SURNAMES)}", f"978{n:010d}")
             for n in range(1, titles + 1)), ids_of="titles")
    cats = _pick(rng, ITEM_MIX, count)
    homes = rng.choices(ids, weights=weights, k=count)

    def rows() -> Iterator[Row]:
        for n in range(count):
            cat = cats[n]
            attach = "CD" if cat == "audiobook" else ("booklet" if cat == "dvd" and n % 3 else
                                                      None)
            yield (n + 1, f"3{n + 1:09d}", f"INV-{n + 1}", f"{800 + n % 100}.{n % 7} "
                   f"{rng.choice(SURNAMES)[:3].upper()}", n % titles + 1, cat, homes[n],
                   homes[n], attach)
    return _insert(s, "INSERT INTO items (id, barcode, accession, call_number, title_id,"
                   " category, home_branch, at_branch, attachments) VALUES"
                   " (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows(), ids_of="items")


def _history(s: Store, rng: random.Random, dates: _Dates, today: date, days: int,
             now: datetime) -> dict:
    active = [pid for (pid,) in s.db.execute(
        "SELECT id FROM patrons WHERE status = 'active' AND blocked = 0 AND category != 'child'")]
    lendable = s.db.execute(
        "SELECT i.id, i.title_id, i.home_branch, i.category FROM items i JOIN item_categories c"
        " ON c.code = i.category WHERE c.in_library_only = 0").fetchall()
    loan_days = {"dvd": 7, "magazine": 14}
    loans: list[Row] = []
    fines: list[Row] = []
    opened: set[int] = set()
    recent = today - timedelta(days=46)  # history ends before the open loans begin
    for item_id, title_id, home, cat in lendable:
        period = loan_days.get(cat, 21)
        cursor = today - timedelta(days=days - rng.randint(0, 60))
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):  # one copy's loans, one after another
            out = cursor + timedelta(days=rng.randint(0, 30))
            due = dates.due(home, out + timedelta(days=period))
            late = rng.random() < 0.08
            back = due + timedelta(days=rng.randint(1, 30)) if late else \
                out + timedelta(days=rng.randint(1, period))
            if back >= recent:
                break
            pid = rng.choice(active)
            loans.append((item_id, pid, title_id, home, _ts(out), due.isoformat(), _ts(back),
                          home))
            if late:
                fines.append((pid, home, min(20 * (back - due).days, 1000), _ts(back)))
            cursor = back + timedelta(days=1)
        if rng.random() < 0.1:
            out = today - timedelta(days=rng.randint(0, 45))
            loans.append((item_id, rng.choice(active), title_id, home, _ts(out),
                          dates.due(home, out + timedelta(days=period)).isoformat(), None, None))
            opened.add(item_id)
    n = _insert(s, "INSERT INTO loans (item_id, patron_id, title_id, branch_id, out_at, due,"
                " returned_at, returned_branch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", loans)
    s.db.executemany("UPDATE items SET status = 'on_loan' WHERE id = ?",
                       [(i,) for i in opened])
    _insert(s, "INSERT INTO debts (patron_id, branch_id, kind, amount, created_at)"
            " VALUES (?, ?, 'fine', ?, ?)", (f for f in fines if f[2] > 0))
    paid = _payments(s, rng, now)
    held = _holds(s, rng, now)
    return {"loans": n, "open_loans": len(opened), "fines": len(fines), "payments": paid,
            "holds": held}


def _ts(day: date) -> str:
    return datetime.combine(day, time(10)).isoformat() + "+00:00"


def _payments(s: Store, rng: random.Random, now: datetime) -> int:
    debts = s.db.execute("SELECT id, patron_id, branch_id, amount, created_at FROM debts"
                           ).fetchall()
    count = 0
    for debt_id, pid, branch, amount, at in debts:
        if rng.random() < 0.6:
            pay_id = s.add("payments", {"patron_id": pid, "branch_id": branch, "amount": amount,
                                        "method": rng.choice(("cash", "card")),
                                        "created_at": at, "day": at[:10]})
            s.db.execute("INSERT INTO allocations VALUES (?, ?, ?)", (pay_id, debt_id, amount))
            count += 1
    return count


def _holds(s: Store, rng: random.Random, now: datetime) -> int:
    out = s.db.execute(
        "SELECT l.title_id, i.home_branch, l.patron_id FROM loans l JOIN items i"
        " ON i.id = l.item_id WHERE l.returned_at IS NULL").fetchall()
    active = [pid for (pid,) in s.db.execute(
        "SELECT id FROM patrons WHERE status = 'active' AND blocked = 0 LIMIT 50000")]
    rows, seen = [], set()
    for title_id, branch, borrower in rng.sample(out, k=min(len(out), len(out) // 5)):
        pid = rng.choice(active)
        if pid == borrower or (pid, title_id) in seen:
            continue
        seen.add((pid, title_id))
        placed = now - timedelta(days=rng.randint(0, 30), minutes=rng.randint(0, 600))
        rows.append((title_id, pid, branch, placed.isoformat(),
                     (placed.date() + timedelta(days=180)).isoformat()))
    return _insert(s, "INSERT INTO holds (title_id, patron_id, branch_id, placed_at, expires,"
                   " state) VALUES (?, ?, ?, ?, ?, 'waiting')", rows)


def _counts(s: Store) -> None:
    s.db.execute("INSERT INTO circ_counts SELECT substr(out_at, 1, 10), branch_id, 'loans',"
                   " count(*) FROM loans GROUP BY 1, 2")
    s.db.execute("INSERT INTO circ_counts SELECT substr(returned_at, 1, 10), returned_branch,"
                   " 'returns', count(*) FROM loans WHERE returned_at IS NOT NULL GROUP BY 1, 2")
    s.db.execute("INSERT INTO circ_counts SELECT substr(completed_at, 1, 10), home_branch,"
                   " 'new_members', count(*) FROM patrons WHERE completed_at IS NOT NULL"
                   " GROUP BY 1, 2")


def tiny(s: Store) -> dict:
    """The demo library: Center (the devices' site) and Šiška, fifty patrons, 500 items, a
    couple of months of history, and the demo cards at Center."""
    made = generate(s, branches=2, patrons=50, items=500, days=60, seed=7)
    site = DEMO_SITE
    rng = random.Random(7)
    with s.atomic():
        every = [b["id"] for b in s.rows("SELECT id FROM branches ORDER BY id")]
        for staff_id, name, role in DEMO_STAFF:
            branches.add_staff(s, staff_id, name, role, every)
        for uid, _, category, blocked, left, staff in DEMO_CARDS:
            pid = patrons.add_patron(s, rng.choice(SURNAMES), category, branch=site,
                                     first_name=rng.choice(FIRST), is_staff=staff)
            patrons.record_paper_form(s, pid, audit.Actor(DEMO_STAFF[0][0], site))
            until = (s.now().date() + timedelta(days=left)).isoformat()
            s.update("patrons", pid, {"valid_until": until, "blocked": blocked})
            patrons.add_card(s, pid, uid)
    for lang, text in DEMO_MESSAGES.items():
        messages.set_message(s, site, lang, text)
    return made | {"demo_cards": len(DEMO_CARDS), "demo_staff": len(DEMO_STAFF)}
