"""What the staff commands share: opening the store, turning refusals into clear messages."""

import functools
import inspect
import json
import sqlite3
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar, overload

import click
import msgspec
import sqlite_utils

from central.circulation import audit, branches, patrons
from central.circulation.errors import CirculationError, Forbidden
from central.circulation.store import Store
from central.store import open_store
from edge_common import ids
from edge_common.errors import EdgeError

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


def staff_action(action: str, *roles: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Declare a command a staff action: it needs --staff, a member of staff holding one of
    `roles` (any role when none are named) at the command's --branch, and the audit log
    records who ran it, where and with what, once it did something (see `with_store`)."""

    def declare(fn: Callable[..., R]) -> Callable[..., R]:
        fn.__dict__["staff_action"] = (action, roles or branches.ROLES)
        return fn if "staff_id" in inspect.signature(fn).parameters else STAFF(fn)

    return declare


def with_store(fn: Callable[..., R]) -> Callable[..., R]:
    """Add --db, open the store, find the PATRON named, check a staff action's staff, show a
    refusal as `[code] message`."""
    declared: tuple[str, tuple[str, ...]] | None = fn.__dict__.get("staff_action")
    takes_staff = "staff_id" in inspect.signature(fn).parameters

    @DB_OPTION
    @functools.wraps(fn)
    def run(db_path: str, **kw: Any) -> R:
        s = Store(store_at(db_path))
        outcome = None                             # logged only once it changed something
        try:
            check_named(s, kw)
            if declared:
                permit(s, kw, declared[1])
            done = fn(s, **kw) if takes_staff else fn(s, **without(kw, "staff_id"))
            outcome = "ok"
            return done
        except EdgeError as exc:                   # a refusal of the domain or the backbone
            raise click.ClickException(f"[{exc.code}] {exc}") from None
        except sqlite3.IntegrityError as exc:     # a rule the domain did not check first
            raise click.ClickException(f"[conflict] {exc}") from None
        except Refusals as exc:                    # some of the items were refused
            outcome = "partly_refused" if exc.done else None
            raise
        finally:
            if declared and outcome:
                record_action(s, declared[0], kw, outcome)
            s.db.conn.close()

    return run


def permit(s: Store, kw: dict[str, Any], roles: tuple[str, ...]) -> None:
    """Refuse a staff action to a member of staff without one of `roles` at its branch."""
    if kw.get("branch_id"):
        branches.require_role(s, kw["staff_id"], kw["branch_id"], *roles)
    elif (account := branches.staff(s, kw["staff_id"]))["role"] not in roles:
        raise Forbidden(f"{kw['staff_id']} ({account['role']}) may not do this",
                        code="role_required")


SUBJECTS = (("patron_id", "patron"), ("items", "item"), ("item", "item"),
            ("identifier", "item"), ("barcode", "item"), ("hold_id", "hold"), ("ib_id", "ib"),
            ("dev", "device"), ("uid", "card"), ("id", ""), ("code", "category"))


NOT_LOGGED = ("staff_id", "smtp_password", "password")   # the actor is logged apart; secrets never


def record_action(s: Store, action: str, kw: dict[str, Any], outcome: str) -> None:
    """Log a staff action with its arguments and outcome, in a transaction of its own."""
    name, value = next(((kind or action.split(".")[0], kw[key]) for key, kind in SUBJECTS
                        if kw.get(key) not in (None, ())), (action.split(".")[0], ""))
    shown = ",".join(map(str, value)) if isinstance(value, (tuple, list)) else value
    arguments = {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()
                 if k not in NOT_LOGGED and v not in (None, (), False)}
    with s.atomic():
        audit.record(s, audit.Actor(kw["staff_id"], kw.get("branch_id")), action,
                     f"{name}:{shown}", None, arguments, outcome)


def without(kw: dict[str, Any], *names: str) -> dict[str, Any]:
    """`kw` less some keys."""
    return {k: v for k, v in kw.items() if k not in names}


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


class Id(click.ParamType):
    """A device or site id, checked against the one id pattern before anything else runs."""

    def __init__(self, name: str, check: Callable[[object], str]) -> None:
        self.name = name
        self.check = check

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        """The id, or a usage error with its code (`id_invalid`, `id_reserved`)."""
        try:
            return self.check(value)
        except ids.IdRefused as exc:
            self.fail(f"[{exc.code}] {exc}", param, ctx)


DEVICE_ID = Id("device id", ids.device)
SITE_ID = Id("site id", ids.site)


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
    refused = sum(1 for r in results if isinstance(r, dict) and "refused" in r)
    if refused:
        raise Refusals(len(results) - refused)


class Refusals(SystemExit):
    """Exit status 1: some items or rows (`done` of them went through) were refused."""

    def __init__(self, done: int) -> None:
        super().__init__(1)
        self.done = done
