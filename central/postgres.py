"""Central's store on PostgreSQL: the connection, the schema made from its description, and
the server's constraint errors in the seam's words."""

import re
from datetime import UTC, datetime
from typing import Any

import psycopg
import sqlalchemy
from psycopg.pq import TransactionStatus
from psycopg.types.numeric import IntDumper, NumericLoader
from sqlalchemy.pool import NullPool

from central import schema
from central.conflict import Conflict

IntegrityError = psycopg.IntegrityError
IDLE = TransactionStatus.IDLE   # a connection with no transaction open
FUNCTIONS = (   # what SQLite's connections are given in Python (central.database), in SQL
    "CREATE FUNCTION casefold(text) RETURNS text IMMUTABLE LANGUAGE sql"
    " AS $$ SELECT lower($1) $$",
    "CREATE FUNCTION digits(text) RETURNS text IMMUTABLE LANGUAGE sql"
    " AS $$ SELECT regexp_replace($1, '[^0-9]', '', 'g') $$",
)


class FlagDumper(IntDumper):
    """A bool goes to the server as the 1 or 0 SQLite stores: flags are integer columns."""

    def dump(self, obj: Any) -> bytes:
        """1 or 0."""
        return b"1" if obj else b"0"


class NumberLoader(NumericLoader):
    """A numeric (what a sum of integers is) as the int SQLite gives, a fraction as a float."""

    def load(self, data: Any) -> Any:
        """An int when whole, else a float."""
        value = super().load(data)
        return int(value) if value == value.to_integral_value() else float(value)


def connect(url: str, read_only: bool) -> psycopg.Connection[Any]:
    """A connection in autocommit (the seam begins its transactions itself) that binds values
    on the client, so `? IS NULL` needs no declared type, as on SQLite."""
    conn = psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor)
    conn.adapters.register_dumper(bool, FlagDumper)
    conn.adapters.register_loader("numeric", NumberLoader)
    if read_only:
        conn.execute("SET default_transaction_read_only = on")
    return conn


def conflict(exc: psycopg.IntegrityError) -> Conflict:
    """The server's constraint error as a Conflict naming its columns."""
    detail = exc.diag.message_detail or ""
    if exc.sqlstate == "23505":   # unique_violation
        found = re.match(r"Key \((.*?)\)=", detail)
        return Conflict(f"{exc} {detail}".strip(),
                        [c.strip() for c in found.group(1).split(",")] if found else [])
    return Conflict(str(exc).strip(), unique=False)


def tables(conn: psycopg.Connection[Any]) -> set[str]:
    """The tables of the connection's schema."""
    return {name for (name,) in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}


def applied(conn: psycopg.Connection[Any]) -> set[str]:
    """The names of the migrations the store holds."""
    return {name for (name,) in conn.execute("SELECT name FROM _migrations")}


def create(url: str, migrations: list[str]) -> None:
    """Make central's schema in an empty database from its description, in one transaction,
    recording every migration of this version as applied."""
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)
                                      .replace("postgres://", "postgresql+psycopg://", 1),
                                      poolclass=NullPool)
    now = datetime.now(UTC).isoformat()
    try:
        with engine.begin() as conn:
            for sql in FUNCTIONS:
                conn.exec_driver_sql(sql)
            schema.META.create_all(conn)
            conn.execute(schema.META.tables["_migrations"].insert(),
                         [{"name": name, "applied_at": now} for name in migrations])
    finally:
        engine.dispose()
