"""What the staff commands share: opening the store, turning refusals into clear messages."""

import functools
import inspect
import json
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import PurePath
from typing import Any, TypeVar, overload

import click
import msgspec

from central.circulation import audit, bounds, branches, owners, patrons, snapshots
from central.circulation.errors import CirculationError, Forbidden, Refused
from central.circulation.store import Store
from central.database import Conflict, Database, driver_errors, shown
from central.store import NotAStore, open_store
from central.store_option import StoreTarget
from edge_common import ids
from edge_common.errors import EdgeError

R = TypeVar("R")
T = TypeVar("T")

BRANCH = click.option("--branch", "branch_id", required=True, help="The branch you work at.")
STAFF = click.option("--staff", "staff_id", required=True, help="Who you are (a staff account).")
PATRON = click.argument("patron", metavar="PATRON")
"""A patron named by id, library card number or city card UID (`id:`, `card:`, `city:`)."""


DB_OPTION = click.option(
    "--db", "db_path", envvar="LIBEDGE_DB", required=True, type=StoreTarget(),
    help="Central's store: a SQLite file, or a postgresql:// URL (`libedge admin init` makes"
         " a new one).")


def store_at(path: str, *, init: bool = False) -> Database:
    """Open central's store at `path` (`init`: or make one there), or fail with a code when it
    is no usable database or not central's."""
    try:
        return open_store(path, init=init)
    except driver_errors() as exc:
        raise click.ClickException(f"[db_unusable] {shown(path)}: {exc}") from None
    except NotAStore as exc:
        raise click.ClickException(f"[{exc.code}] {exc}") from None


AT_BRANCH = click.option(
    "--branch", "branch_id",
    help="The branch you work at (default: the one chosen at `staff login`, or your only one).")


def staff_action(action: str, *roles: str, at_login: bool = False,
                 creates: str | None = None) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Declare a command a staff action: it needs --staff, a member of staff holding one of
    `roles` (any role when none are named) at the command's --branch and assigned to the branch
    owning the record it acts on, and the audit log records who ran it, where, with what and
    what it changed, once it did something (see `with_store`). `at_login`: the command acts
    for a library-wide record (a patron, a card) at the branch the staff member works at, named
    by --branch or chosen at login. A command that `creates` its subject (a `patron`) returns
    the new id, which the log names."""

    def declare(fn: Callable[..., R]) -> Callable[..., R]:
        fn.__dict__["staff_action"] = (action, roles or branches.ROLES, at_login, creates)
        if at_login and "branch_id" not in inspect.signature(fn).parameters:
            fn = AT_BRANCH(fn)
        return fn if "staff_id" in inspect.signature(fn).parameters else STAFF(fn)

    return declare


def self_action(action: str, who: str = "system",
                by: str | None = None) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Declare a command that changes the store without a member of staff acting for a patron:
    a job the system runs (who = `system`), an online registration (`online`), or someone's own
    choice named by the parameter `by`. The audit log records it when it changed anything."""

    def declare(fn: Callable[..., R]) -> Callable[..., R]:
        fn.__dict__["self_action"] = (action, who, by)
        return fn

    return declare


def with_store(fn: Callable[..., R]) -> Callable[..., R]:
    """Add --db, open the store, find the PATRON named, check a staff action's staff, show a
    refusal as `[code] message`, and log what a declared command did."""
    declared: tuple[str, tuple[str, ...], bool, str | None] | None = \
        fn.__dict__.get("staff_action")
    own: tuple[str, str, str | None] | None = fn.__dict__.get("self_action")
    takes = inspect.signature(fn).parameters

    @DB_OPTION
    @functools.wraps(fn)
    def run(db_path: str, **kw: Any) -> R:
        s = Store(store_at(db_path))
        outcome = None                             # logged only once it changed something
        done_before, where, subject, before = s.db.total_changes, None, None, {}
        try:
            check_named(s, kw)
            if declared:
                where = permit(s, kw, declared[1], declared[2])
                subject = subject_of(s, declared[0], kw)
                before = snapshots.take(s, subject)
            done = fn(s, **without(kw, *(k for k in ("staff_id", "branch_id") if k not in takes)))
            if declared and declared[3]:     # the new record is the subject
                kw[f"{declared[3]}_id"] = done
                subject = (declared[3], done)
            outcome = "ok"
            return done
        except EdgeError as exc:                   # a refusal of the domain or the backbone
            raise click.ClickException(f"[{exc.code}] {exc}") from None
        except Conflict as exc:                   # a rule the domain did not check first
            raise click.ClickException(f"[conflict] {exc}") from None
        except Refusals as exc:                    # some of the items were refused
            outcome = "partly_refused" if exc.done else None
            raise
        finally:
            if declared and outcome and subject:
                record_action(s, declared[0], kw, outcome, where=where, subject=subject,
                              before=before)
            elif own and outcome and (changed := s.db.total_changes - done_before):
                actor = kw[own[2]] if own[2] else own[1]
                record_action(s, own[0], kw | {"staff_id": actor, "rows_changed": changed},
                              outcome)
            s.db.close()

    return run


def permit(s: Store, kw: dict[str, Any], roles: tuple[str, ...],
           at_login: bool = False) -> str | None:
    """Refuse a staff action to a member of staff without one of `roles` at its branch, or not
    assigned to the branch owning the record it acts on; the branch it acts at."""
    where = kw.get("branch_id") or next(iter(kw.get("branch_ids") or ()), None)
    if kw.get("branch_id"):
        branches.require_role(s, kw["staff_id"], kw["branch_id"], *roles)
    elif (account := branches.staff(s, kw["staff_id"]))["role"] not in roles:
        raise Forbidden(f"{kw['staff_id']} ({account['role']}) may not do this",
                        code="role_required")
    for name, value in kw.items():
        if (owning := owners.owners(s, name, value)) is not None:
            where = branches.require_assigned(s, kw["staff_id"], owning)
    if where is None:
        where = branches.acting_branch(s, kw["staff_id"], required=at_login)
        if at_login:
            kw["branch_id"] = where
    return where


SUBJECTS = (("patron_id", "patron"), ("items", "item"), ("item", "item"),
            ("identifier", "item"), ("barcode", "item"), ("hold_id", "hold"), ("ib_id", "ib"),
            ("form_id", "form"), ("dev", "device"), ("uid", "card"), ("id", ""),
            ("code", "category"))


def subject_of(s: Store, action: str, kw: dict[str, Any]) -> tuple[str, object]:
    """What a command acts on, as (kind, key): the first parameter naming something; a card
    names its holder, so that what is done to a card shows under the patron."""
    kind, value = next(((kind or action.split(".")[0], kw[key]) for key, kind in SUBJECTS
                        if kw.get(key) not in (None, ())), (action.split(".")[0], ""))
    if kind == "card":
        return "patron", patrons.by_card(s, value, kw.get("kind") or "city")["id"]
    return kind, value


NOT_LOGGED = ("staff_id", "smtp_password", "password")   # the actor is logged apart; secrets never
CARDS = ("uid", "card")   # a card's number is personal: the log names its holder instead


CARDS = ("uid", "card")   # a card's number is personal: the log names its holder instead


def record_action(s: Store, action: str, kw: dict[str, Any], outcome: str, *,
                  where: str | None = None, subject: tuple[str, object] | None = None,
                  before: dict[str, Any] | None = None) -> None:
    """Log a command with its arguments and outcome, in a transaction of its own: who, where
    (the branch acted at, else the command's --branch), on what, and — given the record's
    values `before` — what changed, before and after. An action on a card is logged under the
    card's holder, without the card's number, so erasing the holder forgets it too."""
    name, value = subject or subject_of(s, action, kw)
    kw = without(kw, *CARDS)
    shown = ",".join(map(str, value)) if isinstance(value, (tuple, list)) else value
    arguments = {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()
                 if k not in NOT_LOGGED and v not in (None, (), False)}
    was, now = snapshots.changes(before or {}, snapshots.take(s, (name, value)))
    with s.atomic():
        audit.record(s, audit.Actor(kw["staff_id"], where or kw.get("branch_id")), action,
                     f"{name}:{shown}", was, arguments | now, outcome)


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


# The longest value of a parameter, by name, where it is not bounds.MAX_TEXT: keys and ids are
# as long as the wire carries them, file names as long as a path.
LONGEST = {**dict.fromkeys(("id", "code", "barcode", "library_card", "city_card", "card", "uid",
                            "dev", "key", "version", "branch_id", "branch_ids", "staff_id",
                            "admin_id", "site", "pad", "accession", "tz", "lang", "language",
                            "move_to", "from_branch", "patron_category", "item_category",
                            "category"), bounds.MAX_KEY),
           **dict.fromkeys(("db_path", "path", "to", "texts", "provision_path", "smtp_cafile"),
                           bounds.MAX_PATH)}


def bounded(group: click.Group) -> None:
    """Hold every command under `group` to the bounds of staff input before it runs: each
    text (an argument, an option, each of many) to its length and without control, NUL or
    direction characters; each whole number to what the store can hold. (Text of spaces
    only is each command's own matter: a search says search_empty, a new card bad_card.)"""
    for cmd in group.commands.values():
        if isinstance(cmd, click.Group):
            bounded(cmd)
        elif cmd.callback is not None and not hasattr(cmd.callback, "bounded"):
            cmd.callback = _checking(cmd.callback)


def _checking(fn: Callable[..., R]) -> Callable[..., R]:
    @functools.wraps(fn)
    def checked(**kw: Any) -> R:
        try:
            for name, value in kw.items():
                for one in value if isinstance(value, (tuple, list)) else (value,):
                    _check_one(name, one)
        except Refused as exc:
            raise click.ClickException(f"[{exc.code}] {exc}") from None
        return fn(**kw)

    checked.__dict__["bounded"] = True
    return checked


def _check_one(name: str, value: object) -> None:
    shown = name.replace("_", "-")
    if isinstance(value, PurePath):
        value = str(value)
    if isinstance(value, str):
        longest = LONGEST.get(name, bounds.MAX_TEXT)
        bounds.check_text(shown, value, longest, blank=True, lines=longest == bounds.MAX_TEXT)
    elif isinstance(value, int) and not isinstance(value, bool):
        bounds.check_int(shown, value)


class Refusals(SystemExit):
    """Exit status 1: some items or rows (`done` of them went through) were refused."""

    def __init__(self, done: int) -> None:
        super().__init__(1)
        self.done = done
