"""What the staff commands share: opening the store, turning refusals into clear messages."""

import functools
import json
import sqlite3
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar, overload

import click
import msgspec
import sqlite_utils

from central.circulation import branches, patrons
from central.circulation.errors import CirculationError
from central.circulation.store import Store
from central.store import open_store

R = TypeVar("R")
T = TypeVar("T")

BRANCH = click.option("--branch", "branch_id", required=True, help="The branch you work at.")
STAFF = click.option("--staff", "staff_id", required=True, help="Who you are (a staff account).")
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
            check_named(s, kw)
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


BRANCH_PARAMETERS = ("branch_id", "site", "move_to", "from_branch")


def check_named(s: Store, kw: dict[str, Any]) -> None:
    """Find the PATRON named (as patron_id), and refuse a branch or staff member that does not
    exist before a command acts, filters included."""
    if "patron" in kw:
        ref = kw.pop("patron")
        kw["patron_id"] = None if ref is None else patrons.find(s, ref)
    for name in BRANCH_PARAMETERS:
        if kw.get(name) is not None:
            s.branch(kw[name])
    for branch_id in kw.get("branch_ids") or ():
        s.branch(branch_id)
    if kw.get("staff_id") is not None:
        branches.staff(s, kw["staff_id"])


class Text(click.ParamType):
    """Text that must say something: a name, a title, a new id (surrounding spaces dropped)."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        """The stripped text, or a usage error when nothing is left."""
        if not isinstance(value, str) or not value.strip():
            self.fail("must not be empty", param, ctx)
        return value.strip()


TEXT = Text()


def each(items: Iterable[T], act: Callable[[T], object]) -> None:
    """Do `act` for every item, show each one's result or refusal, exit 1 if any was refused."""
    results: list[object] = []
    for item in items:
        try:
            results.append(act(item))
        except CirculationError as exc:
            results.append({"item": item, "refused": exc.code, "message": str(exc)})
            click.echo(f"Error: [{exc.code}] {item}: {exc}", err=True)
    show(results)
    if any(isinstance(r, dict) and "refused" in r for r in results):
        raise SystemExit(1)
