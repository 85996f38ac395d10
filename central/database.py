"""Central's store behind one DB-API face, on a SQLite file or on PostgreSQL.

The domain writes SQL once, with `?` parameters, in the subset both stores speak. This is
the one place that knows which store it is on: it turns `?` into psycopg's `%s`, begins a
write transaction the way each store serialises writers, and turns each driver's
constraint errors into one `Conflict` that names the columns.
"""

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

from central.conflict import Conflict
from edge_common.migrations import connect as connect_sqlite

Dialect = Literal["sqlite", "postgresql"]
WRITER_LOCK = 0x6C6962656467   # PostgreSQL advisory lock every writing transaction holds
_WRITES = ("INSERT", "UPDATE", "DELETE")
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?\d*|%")


class Cursor(Protocol):
    """What a statement gives back, on either store."""

    description: Any
    rowcount: int

    def fetchone(self) -> Any:
        """The next row, or None."""

    def fetchall(self) -> list[Any]:
        """The rows left."""

    def __iter__(self) -> Iterator[Any]:
        """The rows left, one by one."""


def casefold(value: str | None) -> str | None:
    """`value` in the case it is compared in (SQL: `casefold(column)`)."""
    return value.casefold() if isinstance(value, str) else None


def digits(value: str | None) -> str | None:
    """The digits of `value`, however it was written (SQL: `digits(column)`)."""
    return "".join(c for c in value if c in "0123456789") if isinstance(value, str) else None


def among(column: str, values: Sequence[Any] | None) -> str:
    """SQL that is true when `column` is one of `values` (always, for None), one `?` a value."""
    if values is None:
        return "1 = 1"
    return f"{column} IN ({', '.join('?' * len(values))})" if values else "1 = 0"


def driver_errors() -> tuple[type[Exception], ...]:
    """The errors a store's driver raises (a file that is no database, a server not there)."""
    import sys

    psycopg = sys.modules.get("psycopg")
    return (sqlite3.Error, psycopg.Error) if psycopg else (sqlite3.Error,)


def is_url(target: str) -> bool:
    """Whether `target` names a PostgreSQL database rather than a SQLite file."""
    return target.startswith(("postgresql://", "postgres://"))


def shown(target: str) -> str:
    """The store's path, or its URL with the password left out, to be shown or logged."""
    if not is_url(target):
        return target
    parts = urlsplit(target)
    if parts.password is None:
        return target
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:…@{host}"))


@lru_cache(maxsize=4096)
def pyformat(sql: str) -> tuple[str, bool]:
    """`sql` with `?` parameters as psycopg's `%s` and numbered `?N` ones as `%(pN)s` (every
    literal `%` doubled, a `?` in quoted text left as it is), and whether it numbers them."""
    numbered = False

    def swap(m: re.Match[str]) -> str:
        nonlocal numbered
        token = m.group()
        if token == "%":
            return "%%"
        if token == "?":
            return "%s"
        if token.startswith("?"):
            numbered = True
            return f"%(p{token[1:]})s"
        return token.replace("%", "%%")

    return _TOKEN.sub(swap, sql), numbered


def _bound(sql: str, params: Sequence[Any]) -> tuple[str, Any]:
    """The statement and parameters as psycopg takes them."""
    text, numbered = pyformat(sql)
    return text, ({f"p{n}": v for n, v in enumerate(params, 1)} if numbered else list(params))


class Database:
    """One connection to central's store; writes are serialised across every connection and
    process, as SQLite does by itself (on PostgreSQL by an advisory lock per transaction)."""

    def __init__(self, conn: Any, dialect: Dialect, target: str) -> None:
        self.conn = conn
        self.dialect: Dialect = dialect
        self.target = target
        self._savepoints = 0
        self._changed = 0
        if dialect == "postgresql":
            from central import postgres

            self._pg = postgres

    @property
    def postgres(self) -> bool:
        """Whether the store is PostgreSQL."""
        return self.dialect == "postgresql"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement with `?` parameters."""
        if self.postgres:
            try:
                cur = self.conn.execute(*_bound(sql, params))
            except self._pg.IntegrityError as exc:
                raise self._pg.conflict(exc) from None
            if cur.rowcount > 0 and cur.statusmessage.startswith(_WRITES):
                self._changed += cur.rowcount
            return cur
        try:
            return self.conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise _sqlite_conflict(exc) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters."""
        if self.postgres:
            try:
                with self.conn.cursor() as cur:
                    cur.executemany(pyformat(sql)[0], [list(r) for r in rows])
                    self._changed += max(cur.rowcount, 0)
            except self._pg.IntegrityError as exc:
                raise self._pg.conflict(exc) from None
            return
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise _sqlite_conflict(exc) from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """The rows of a query as dicts."""
        cur = self.execute(sql, params)
        names = [c[0] for c in cur.description]
        for row in cur:
            yield dict(zip(names, row, strict=True))

    def ids_given(self, table: str) -> None:
        """After rows were inserted with ids of their own: the ids the store gives next follow
        them (SQLite's do by themselves; PostgreSQL's sequence is moved past them)."""
        if self.postgres:
            self.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                         f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")

    def json_field(self, column: str, key: str, binary: bool = False) -> str:
        """SQL for the text of `key` in the JSON object a text (or `binary`) column holds."""
        if self.postgres:
            text = f"convert_from({column}, 'UTF8')" if binary else column
            return f"({text}::json ->> '{key}')"
        return f"json_extract({f'CAST({column} AS TEXT)' if binary else column}, '$.{key}')"

    def holds(self, column: str) -> str:
        """SQL that is true when `column` holds the next parameter's bytes or text."""
        return f"position(? in {column}) > 0" if self.postgres else f"instr({column}, ?) > 0"

    def joined(self, expr: str, separator: str) -> str:
        """SQL for the aggregate of `expr`'s texts joined by `separator`."""
        return f"{'string_agg' if self.postgres else 'group_concat'}({expr}, '{separator}')"

    @property
    def total_changes(self) -> int:
        """Rows inserted, updated or deleted on this connection so far."""
        return self._changed if self.postgres else int(self.conn.total_changes)

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on this connection."""
        if self.postgres:
            return bool(self.conn.info.transaction_status != self._pg.IDLE)
        return bool(self.conn.in_transaction)

    @contextmanager
    def transaction(self) -> Iterator["Database"]:
        """A write transaction that waits for the writer before it, or a savepoint inside
        the caller's. On SQLite it begins IMMEDIATE: a deferred one that reads first is
        refused its write at once when another connection wrote in between."""
        if self.in_transaction:
            with self._savepoint():
                yield self
            return
        if self.postgres:
            self.conn.execute("BEGIN")
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITER_LOCK])
        else:
            self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator["Database"]:
        """Reads that all see one state of the store (a read transaction: SQLite's deferred
        one, PostgreSQL's repeatable read), or the caller's transaction."""
        if self.in_transaction:
            yield self
            return
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ" if self.postgres else "BEGIN")
        try:
            yield self
        finally:
            self.conn.execute("ROLLBACK")

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        self._savepoints += 1
        name = f"libedge_{self._savepoints}"
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            self.conn.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._savepoints -= 1

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def connect(target: str, *, read_only: bool = False, synchronous: str = "FULL") -> Database:
    """A connection to the store at `target`: a SQLite file's path or a PostgreSQL URL.
    A read-only one refuses every write (SQLite's query_only, PostgreSQL's read-only
    transactions)."""
    if is_url(target):
        from central import postgres

        return Database(postgres.connect(target, read_only), "postgresql", target)
    sqlite = connect_sqlite(target, synchronous=synchronous)
    for fn in (casefold, digits):
        sqlite.create_function(fn.__name__, 1, fn, deterministic=True)
    if read_only:
        sqlite.execute("PRAGMA query_only = ON")
    return Database(sqlite, "sqlite", target)


def _sqlite_conflict(exc: sqlite3.IntegrityError) -> Conflict:
    """SQLite's constraint error as a Conflict naming its columns."""
    text = str(exc)
    if text.startswith("UNIQUE constraint failed:"):
        return Conflict(text, [c.strip().split(".")[-1] for c in text.split(":", 1)[1].split(",")])
    return Conflict(text, unique=False)
