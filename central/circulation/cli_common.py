"""What the staff commands share: opening the store, turning refusals into clear messages."""

import functools
import json
import sqlite3
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar, overload

import click
import msgspec
import sqlite_utils

from central.circulation import patrons
from central.circulation.errors import CirculationError
from central.circulation.store import Store
from central.store import open_store

R = TypeVar("R")

PATRON = click.argument("patron", metavar="PATRON")
"""A patron named by id, library card number or city card UID (`id:`, `card:`, `city:`)."""


DB_OPTION = click.option(
    "--db", "db_path", envvar="LIBEDGE_DB", required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Central's SQLite database (`libedge admin init` makes a new one).")


def store_at(path: str) -> sqlite_utils.Database:
    """Open central's store at `path`, or fail with a code when it is no usable database."""
    try:
        return open_store(path)
    except sqlite3.Error as exc:
        raise click.ClickException(f"[db_unusable] {path}: {exc}") from None


def with_store(fn: Callable[..., R]) -> Callable[..., R]:
    """Add --db, open the store, find the PATRON named, show a refusal as `[code] message`."""

    @DB_OPTION
    @functools.wraps(fn)
    def run(db_path: str, **kw: Any) -> R:
        s = Store(store_at(db_path))
        try:
            if "patron" in kw:
                ref = kw.pop("patron")
                kw["patron_id"] = None if ref is None else patrons.find(s, ref)
            return fn(s, **kw)
        except CirculationError as exc:
            raise click.ClickException(f"[{exc.code}] {exc}") from None
        except sqlite3.IntegrityError as exc:     # a rule the domain did not check first
            raise click.ClickException(f"[conflict] {exc}") from None
        finally:
            s.db.conn.close()

    return run


def show(value: object) -> None:
    """Print a result as indented JSON (readable by people and by scripts)."""
    click.echo(json.dumps(msgspec.to_builtins(value), indent=2, ensure_ascii=False))


@overload
def day(value: str) -> date: ...


@overload
def day(value: None) -> None: ...


def day(value: str | None) -> date | None:
    """Parse YYYY-MM-DD or fail with a clear message."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def each(items: tuple[str, ...], act: Callable[[str], object]) -> None:
    """Do `act` for every item, show each one's result or refusal, exit 1 if any was refused."""
    results: list[object] = []
    for item in items:
        try:
            results.append(act(item))
        except CirculationError as exc:
            results.append({"item": item, "refused": exc.code, "message": str(exc)})
    show(results)
    if any(isinstance(r, dict) and "refused" in r for r in results):
        raise SystemExit(1)
