"""What every table of central's schema is made of: the one MetaData, and column kinds the
same on both stores.

Every text compares byte by byte on both stores (PostgreSQL's "C" collation, SQLite's
BINARY), so pages ordered by key are the same everywhere; integers are 64-bit on both.
"""

from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Text,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite

META = MetaData()
Int = BigInteger().with_variant(Integer(), "sqlite")    # SQLite's rowid alias is "INTEGER"
Str = Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
Bytes = LargeBinary()
Real = Float().with_variant(sqlite.REAL(), "sqlite")


def where(condition: str) -> dict[str, Any]:
    """A partial index's condition, on both stores."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}
