"""Looking for a person's values where erasure must have removed them: central's store (every
table, blobs read as text), folders of files (the form archive, a device's SQLite files and
logs), each searched for every form a value is usually written in."""

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Person:
    """One patron's personal values, as the desk types them."""

    surname: str
    first_name: str
    email: str
    phone: str
    address: str
    birth_date: str
    city_card: str      # a city card UID in hex, as the reader gives it
    library_card: str

    def hold_name(self) -> str:
        """The name a hold slip shows: first name and surname initial."""
        return f"{self.first_name} {self.surname[0]}."

    def values(self) -> list[str]:
        """Every value, and every form it is usually written in (lower case is searched too)."""
        uid = self.city_card.upper()
        pairs = [uid[i:i + 2] for i in range(0, len(uid), 2)]
        birth = self.birth_date.split("-")
        return [self.surname, self.first_name, self.email, self.phone,
                "".join(c for c in self.phone if c.isdigit()), self.address,
                self.birth_date, ".".join(reversed(birth)), self.hold_name(),
                uid, ":".join(pairs), " ".join(pairs), "-".join(pairs),
                str(int(uid, 16)), self.library_card]


def store_text(db_path: Path) -> list[str]:
    """Every row of every table of an SQLite file (its dump, with blobs decoded as text)."""
    conn = sqlite3.connect(db_path)
    try:
        found = list(conn.iterdump())
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                found += [f"{table}: {v.decode('utf-8', 'replace')}" for v in row
                          if isinstance(v, bytes)]
    finally:
        conn.close()
    return found


def traces(lines: list[str], person: Person) -> list[str]:
    """Each (value, line) where one of the person's values appears, any letter case."""
    return [f"{value!r} in {line[:200]}" for line in lines for value in person.values()
            if value.lower() in line.lower()]


def file_traces(folder: Path, person: Person) -> list[str]:
    """Each (value, file) where one of the person's values appears in the raw bytes of a file
    under `folder` (UTF-8, any letter case), or in an SQLite file's rows."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            raw = path.read_bytes().decode("utf-8", "replace").lower()
        except FileNotFoundError:       # SQLite removed its -wal or -shm as the last one closed
            continue
        found += [f"{value!r} in {path}" for value in person.values() if value.lower() in raw]
        if raw.startswith("sqlite format 3"):
            found += [f"{t} ({path.name})" for t in traces(store_text(path), person)]
    return found
