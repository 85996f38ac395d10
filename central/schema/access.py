"""The access statistics' tables: counts per hour, day, place and visitor."""

from sqlalchemy import Column, Table

from central.schema.columns import META, Int, Real, Str

Table(
    "access_branch_hours", META,
    Column("site", Str, primary_key=True),
    Column("day", Str, primary_key=True),
    Column("hour", Int, primary_key=True, autoincrement=False),
    Column("direction", Str, primary_key=True),
    Column("result", Str, primary_key=True),
    Column("n", Int, nullable=False),
)


Table(
    "access_days", META,
    Column("site", Str, primary_key=True),
    Column("day", Str, primary_key=True),
    Column("room", Str, primary_key=True),
    Column("visits", Int, nullable=False),
    Column("stays", Int, nullable=False),
    Column("stay_seconds", Real, nullable=False),
)


Table(
    "access_hours", META,
    Column("site", Str, primary_key=True),
    Column("day", Str, primary_key=True),
    Column("hour", Int, primary_key=True, autoincrement=False),
    Column("direction", Str, primary_key=True),
    Column("result", Str, primary_key=True),
    Column("room", Str, primary_key=True),
    Column("door", Str, primary_key=True),
    Column("n", Int, nullable=False),
)


Table(
    "access_places", META,
    Column("site", Str, primary_key=True),
    Column("room", Str, primary_key=True),
    Column("door", Str, primary_key=True),
)


Table(
    "access_visits", META,
    Column("site", Str, primary_key=True),
    Column("room", Str, primary_key=True),
    Column("day", Str, primary_key=True),
    Column("card", Str, primary_key=True),
)
