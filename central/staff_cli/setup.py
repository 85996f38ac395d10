"""Staff commands that set the library up: branches, calendars, staff, categories, settings."""

import json

import click
import msgspec

from central.circulation import (
    allowlist,
    audit,
    basics,
    bounds,
    branches,
    calendar_edits,
    catalogue,
    messages,
    settings,
    signin,
)
from central.circulation.calendar import LIBRARY
from central.circulation.store import Store
from central.staff_cli.common import (
    STAFF,
    TEXT,
    day,
    self_action,
    show,
    staff_action,
    with_store,
)


@click.group("branch")
def branch() -> None:
    """Branches, rooms, opening hours and closed-day calendars."""


@branch.command("add")
@with_store
@staff_action("branch.add", "admin")
@click.argument("id", type=TEXT)
@click.argument("name", type=TEXT)
@click.option("--tz", default="Europe/Ljubljana", show_default=True, help="IANA time zone.")
@click.option("--address")
@click.option("--phone")
@click.option("--email")
@click.option("--post-office")
@click.option("--signatory")
def branch_add(s: Store, id: str, name: str, tz: str, **details: str | None) -> None:
    """Create branch ID called NAME."""
    branches.add_branch(s, id, name, tz, **{k: v for k, v in details.items() if v})
    click.echo(f"branch {id} added")


@branch.command("list")
@with_store
def branch_list(s: Store) -> None:
    """Every branch with its time zone."""
    show(s.rows("SELECT * FROM branches ORDER BY id"))


@branch.command("hours")
@with_store
@staff_action("branch.hours", "admin")
@click.argument("id")
@click.argument("hours", nargs=-1, required=True)
def branch_hours(s: Store, id: str, hours: tuple[str, ...]) -> None:
    """Change the hours of the days given as DAY=HH:MM-HH:MM or DAY=closed (day 0 = Monday),
    e.g. 0=08:00-20:00 5=08:00-13:00 6=closed; the other days stay as they are."""
    parsed: dict[int, tuple[str, str] | None] = {}
    for h in hours:
        try:
            wd, span = h.split("=")
            opens, closes = ("", "") if span == "closed" else span.split("-")
            parsed[int(wd)] = None if span == "closed" else (opens, closes)
        except ValueError:
            raise click.BadParameter(f"{h!r}: use DAY=HH:MM-HH:MM or DAY=closed") from None
    branches.set_hours(s, id, parsed, whole_week=False)
    show(s.rows("SELECT weekday, opens, closes FROM opening_hours WHERE branch_id = ?"
                " ORDER BY weekday", [id]))


@branch.group("closed")
def closed() -> None:
    """Closed days: the library-wide calendar, or a branch's own (--branch)."""


CALENDAR_BRANCH = click.option("--branch", "branch_id", help="The branch's own calendar "
                               "(default: the library-wide one).")


@closed.command("add")
@with_store
@staff_action("branch.closed.add", "admin")
@STAFF
@click.argument("dates", nargs=-1, required=True, metavar="YYYY-MM-DD[=REASON]...")
@CALENDAR_BRANCH
def closed_add(s: Store, dates: tuple[str, ...], branch_id: str | None, staff_id: str) -> None:
    """Close on these days too (the other closed days stay); a branch's first day of a year
    starts its own calendar from the library's."""
    parsed = {day(d.split("=")[0]): (d.split("=", 1)[1] if "=" in d else "") for d in dates}
    calendar_edits.add(s, parsed, audit.Actor(staff_id, branch_id), branch_id or LIBRARY)
    click.echo(f"{len(parsed)} closed days added for {branch_id or 'the library'}")


@closed.command("remove")
@with_store
@staff_action("branch.closed.remove", "admin")
@STAFF
@click.argument("dates", nargs=-1, required=True, metavar="YYYY-MM-DD...")
@CALENDAR_BRANCH
def closed_remove(s: Store, dates: tuple[str, ...], branch_id: str | None,
                  staff_id: str) -> None:
    """Open again on these days (each must be a closed day)."""
    calendar_edits.remove(s, [day(d) for d in dates], audit.Actor(staff_id, branch_id),
                          branch_id or LIBRARY)
    click.echo(f"{len(dates)} closed days removed for {branch_id or 'the library'}")


@closed.command("list")
@with_store
@click.argument("year", type=int)
@CALENDAR_BRANCH
def closed_list(s: Store, year: int, branch_id: str | None) -> None:
    """The closed days of YEAR, with their reasons."""
    show(calendar_edits.days_of(s, bounds.check_year(year), branch_id or LIBRARY))


@branch.command("message")
@with_store
@staff_action("branch.message", "supervisor", "admin")
@click.argument("branch_id")
@click.argument("text", required=False)
@click.option("--lang", default="*", show_default=True,
              help="The language it is in: en, sl, cs, hu, zh, or * for every language that has "
                   "no message of its own.")
@click.option("--clear", is_flag=True, help="Take the message in that language away.")
def branch_message(s: Store, branch_id: str, text: str | None, lang: str, clear: bool) -> None:
    """Show TEXT as the message of the day on the patron screens (kiosks) of a branch, or take
    it away with --clear."""
    if clear == (text is not None):
        raise click.UsageError("give either TEXT or --clear")
    now = messages.set_message(s, branch_id, lang, None if clear else text)
    click.echo(f"{branch_id}: {len(now)} message(s) shown; the devices update within seconds")


@branch.command("messages")
@with_store
@click.argument("branch_id")
def branch_messages(s: Store, branch_id: str) -> None:
    """The messages of the day a branch's patron screens show, by language (* = every other)."""
    for lang, text in messages.of_branch(s, branch_id).items():
        click.echo(f"{lang}\t{text}")


@branch.command("room")
@with_store
@staff_action("branch.room", "admin")
@click.argument("id", type=TEXT)
@click.argument("branch_id")
@click.argument("name", type=TEXT)
def branch_room(s: Store, id: str, branch_id: str, name: str) -> None:
    """Add a store or reading room to a branch."""
    branches.add_room(s, id, branch_id, name)
    click.echo(f"room {id} added to {branch_id}")


@click.group("staff")
def staff() -> None:
    """Staff accounts and the branches they work at."""


@staff.command("add")
@with_store
@staff_action("staff.add", "admin")
@click.argument("id", type=TEXT)
@click.argument("name", type=TEXT)
@click.option("--role", type=click.Choice(branches.ROLES), default="clerk", show_default=True)
@click.option("--branch", "branch_ids", multiple=True, required=True, help="Assigned branch.")
def staff_add(s: Store, id: str, name: str, role: str, branch_ids: tuple[str, ...]) -> None:
    """Create a staff account."""
    branches.add_staff(s, id, name, role, list(branch_ids))
    click.echo(f"staff {id} ({role}) at {', '.join(branch_ids)}")


@staff.command("password")
@with_store
@staff_action("staff.password", "admin")
@click.argument("id")
@click.password_option(help="The new password (asked twice when not given).")
def staff_password(s: Store, id: str, password: str) -> None:
    """Set the password staff member ID signs in to the web pages with."""
    signin.set_password(s, id, password)
    click.echo(f"password of {id} set")


@staff.command("login")
@with_store
@self_action("staff.login", by="id")
@click.argument("id")
@click.argument("branch_id")
def staff_login(s: Store, id: str, branch_id: str) -> None:
    """Choose the branch to work at (refused when not assigned)."""
    for warning in branches.login(s, id, branch_id):
        click.echo(f"warning: {warning}")
    click.echo(f"{id} works at {branch_id}")


@click.group("category")
def category() -> None:
    """Patron and item categories and the loan-rule matrix."""


@category.command("install-basics")
@with_store
@staff_action("category.install", "admin")
@click.option("--years", default="2026-2027", show_default=True, help="Holiday years.")
def category_basics(s: Store, years: str) -> None:
    """Install the typical categories, rules and holidays of a city library."""
    try:
        first, last = (int(y) for y in years.split("-"))
    except ValueError:
        raise click.BadParameter(f"{years!r}: use FIRST-LAST, e.g. 2026-2027") from None
    if not 1900 < first <= last < 2200:
        raise click.BadParameter(f"{years!r}: two years, the first not after the last")
    basics.install(s, range(first, last + 1))
    click.echo("categories, rules and holidays installed")


@category.command("patron")
@with_store
@staff_action("category.patron", "admin")
@click.argument("code", type=TEXT)
@click.argument("name", type=TEXT)
@click.option("--max-items", type=click.IntRange(min=0), default=20, show_default=True)
@click.option("--fee", type=click.IntRange(min=0), default=0, show_default=True,
              help="Minor units.")
@click.option("--months", type=click.IntRange(min=1), default=12, show_default=True,
              help="Membership period.")
@click.option("--guardian-under", type=click.IntRange(0, 120), default=18, show_default=True,
              help="Below this age a guardian signs the patron's forms too (0: never).")
def category_patron(s: Store, code: str, name: str, max_items: int, fee: int, months: int,
                    guardian_under: int) -> None:
    """Add a patron category."""
    catalogue.add_patron_category(s, code, name, max_items=max_items, fee=fee,
                                  membership_months=months, guardian_under=guardian_under)
    click.echo(f"patron category {code} added")


@category.command("item")
@with_store
@staff_action("category.item", "admin")
@click.argument("code", type=TEXT)
@click.argument("name", type=TEXT)
@click.option("--in-library-only", is_flag=True)
def category_item(s: Store, code: str, name: str, in_library_only: bool) -> None:
    """Add an item category."""
    catalogue.add_item_category(s, code, name, in_library_only)
    click.echo(f"item category {code} added")


@category.command("rule")
@with_store
@staff_action("category.rule", "admin")
@click.argument("patron_category")
@click.argument("item_category")
@click.argument("fields", nargs=-1)
def category_rule(s: Store, patron_category: str, item_category: str,
                  fields: tuple[str, ...]) -> None:
    """Set a matrix cell: FIELD=N ... (fields: may_borrow loan_days max_items max_renewals
    fine_per_day fine_cap hold_allowed ib_loan_days ib_max_items); "*" is the fallback."""
    try:
        parsed = {k: int(v) for k, v in (f.split("=") for f in fields)}
    except ValueError:
        raise click.BadParameter("use FIELD=NUMBER") from None
    catalogue.set_rule(s, patron_category, item_category, **parsed)
    show(catalogue.rule(s, patron_category, item_category))


@category.command("rules")
@with_store
def category_rules(s: Store) -> None:
    """The whole loan-rule matrix."""
    show(s.rows("SELECT * FROM loan_rules ORDER BY patron_category, item_category"))


@click.command("settings")
@with_store
@click.argument("values", nargs=-1)
@click.option("--staff", "staff_id", help="The administrator who changes them.")
def settings_cmd(s: Store, values: tuple[str, ...], staff_id: str | None) -> None:
    """Show the circulation settings, or change them with KEY=JSON (e.g. debt_limit=500) as
    an administrator (--staff); the audit log keeps the values before."""
    try:
        parsed = {k: json.loads(v) for k, v in (x.split("=", 1) for x in values)}
    except ValueError:
        raise click.BadParameter("use KEY=JSON-VALUE") from None
    if parsed:
        if staff_id is None:
            raise click.UsageError("changing settings needs --staff: an administrator")
        branches.require_admin(s, staff_id)
        before = msgspec.to_builtins(settings.load(s.db))
        try:
            with s.atomic():
                settings.store(s.db, **parsed)
                audit.record(s, audit.Actor(staff_id), "settings.change", "settings",
                             {k: before.get(k) for k in parsed}, parsed)
                if parsed.keys() & DOOR_SETTINGS:   # what every door list row is made from
                    allowlist.publish_everywhere(s.db)
        except (TypeError, ValueError, msgspec.ValidationError) as exc:
            raise click.ClickException(f"[bad_setting] {exc}") from None
        s.forget()
    show(settings.load(s.db))


DOOR_SETTINGS = {"door_ages", "door_debt_limit"}
COMMANDS = [branch, staff, category, settings_cmd]
