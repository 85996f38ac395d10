"""Staff commands for signed forms, the terms they show and the events signing pads show:
`libedge admin form …`, `terms …`, `events …` (thin, over the same API the web pages use)."""

from datetime import datetime
from pathlib import Path

import click

from central.circulation import events, form_archive, forms, patrons, terms
from central.circulation.store import Store
from central.staff_cli.common import BRANCH, STAFF, TEXT, show, staff_action, with_store
from edge_common.catalogues import LANGUAGES

FORM = click.option("--form", "form_id", required=True, type=click.IntRange(min=1),
                    help="The form's number.")


@click.group("form")
def form() -> None:
    """Forms patrons sign on a signing pad: start, correct, list, show, export, verify."""


@form.command("start")
@with_store
@staff_action("form.start")
@click.option("--patron", required=True, help="The patron (id, library card or city card).")
@click.option("--kind", required=True, type=click.Choice(forms.KINDS), help="Which form.")
@click.option("--pad", required=True, help="The signing pad to show it on (device id).")
@STAFF
def form_start(s: Store, patron_id: int, kind: str, pad: str, staff_id: str) -> None:
    """Show a patron's form on a signing pad (refused when the pad is offline or busy)."""
    show(forms.start(s, patron_id, kind, pad, staff_id))


@form.command("fix")
@with_store
@staff_action("form.fix")
@FORM
@click.option("--field", required=True, type=click.Choice(sorted(
    set(forms.FIELDS) & patrons.EDITABLE)), help="The patron's detail to change.")
@click.option("--value", default="", help="Its new value (empty: none).")
@STAFF
def form_fix(s: Store, form_id: int, field: str, value: str, staff_id: str) -> None:
    """Change a detail the patron flagged and show the new revision on the pad."""
    show(forms.fix(s, form_id, field, value, staff_id))


@form.command("refresh")
@with_store
@staff_action("form.refresh")
@FORM
@STAFF
def form_refresh(s: Store, form_id: int, staff_id: str) -> None:
    """Render an open form again after the patron's details were edited."""
    show(forms.refresh(s, form_id, staff_id))


@form.command("cancel")
@with_store
@staff_action("form.cancel")
@FORM
@STAFF
def form_cancel(s: Store, form_id: int, staff_id: str) -> None:
    """Close an open form unsigned (the pad stops showing it)."""
    show(forms.cancel(s, form_id, staff_id))


@form.command("list")
@with_store
@click.option("--patron", help="Only this patron's forms.")
@click.option("--state", type=click.Choice(["open", "signed", "cancelled", "deleted"]))
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000))
def form_list(s: Store, patron_id: int | None, state: str | None, limit: int) -> None:
    """Forms, newest first, with their state, archive area and open corrections."""
    show(forms.listing(s, patron_id, state, limit))


@form.command("show")
@with_store
@FORM
def form_show(s: Store, form_id: int) -> None:
    """A form: what it shows, the corrections the patron asked for, its archive entry."""
    show(forms.show(s, form_id))


@form.command("export")
@with_store
@FORM
@click.option("--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to copy the sealed PDF and the strokes into.")
def form_export(s: Store, form_id: int, to: Path) -> None:
    """Copy an archived form's sealed PDF and raw strokes out of the archive."""
    try:
        copied = form_archive.export(s, form_id, to)
    except OSError as exc:          # a folder that cannot be made or written
        raise click.ClickException(f"[write_failed] {to}: {exc.strerror or exc}") from None
    for path in copied:
        click.echo(str(path))


@form.command("verify")
@with_store
@FORM
def form_verify(s: Store, form_id: int) -> None:
    """Check an archived form's hash and the library's seal (exit 1 with the codes if not)."""
    problems = form_archive.verify(s, form_id)
    if problems:
        raise click.ClickException(f"[{problems[0]}] form {form_id} failed verification: "
                                   + ", ".join(problems))
    click.echo(f"form {form_id}: hash and seal verified")


@click.group("terms")
def terms_cmd() -> None:
    """The terms of membership that forms show, by version and language."""


@terms_cmd.command("add")
@with_store
@staff_action("terms.add", "supervisor", "admin")
@click.argument("version", type=TEXT)
@click.option("--text", "texts", multiple=True, required=True, metavar="LANG=FILE",
              help=f"A language ({', '.join(LANGUAGES)}) and a UTF-8 file with its text;"
              " repeat per language (en is required).")
@STAFF
def terms_add(s: Store, version: str, texts: tuple[str, ...], staff_id: str) -> None:
    """Add a terms version; new forms show it from now on."""
    by_lang = {}
    for given in texts:
        lang, eq, path = given.partition("=")
        if not eq or not Path(path).is_file():
            raise click.BadParameter(f"{given!r}: use LANG=FILE with an existing file")
        by_lang[lang.strip()] = Path(path).read_text(encoding="utf-8")
    click.echo(f"terms {terms.add(s, version, by_lang, staff_id)} added and current")


@terms_cmd.command("list")
@with_store
def terms_list(s: Store) -> None:
    """Terms versions, newest (current) first."""
    show(terms.versions(s))


@click.group("events")
def events_cmd() -> None:
    """The library events a branch's signing pads show when idle."""


@events_cmd.command("add")
@with_store
@staff_action("events.add", "supervisor", "admin")
@BRANCH
@click.argument("title", type=TEXT)
@click.option("--starts", required=True, type=click.DateTime(
    ["%Y-%m-%dT%H:%M%z", "%Y-%m-%d %H:%M%z"]), help="Start, e.g. 2026-12-03T18:00+01:00.")
@click.option("--place", default="", help="Where (a room, a branch).")
@click.option("--lang", type=click.Choice(list(LANGUAGES)),
              help="Only for patrons of this language (default: everyone).")
def events_add(s: Store, branch_id: str, title: str, starts: datetime, place: str,
               lang: str | None) -> None:
    """Show an event on the branch's signing pads."""
    key = events.add(s, branch_id, title, starts, place, lang)
    click.echo(f"event {key} added at {branch_id}; the pads update within seconds")


@events_cmd.command("list")
@with_store
@BRANCH
def events_list(s: Store, branch_id: str) -> None:
    """The branch's events, soonest first, with their keys."""
    show(events.of_branch(s, branch_id))


@events_cmd.command("remove")
@with_store
@staff_action("events.remove", "supervisor", "admin")
@BRANCH
@click.argument("key", type=TEXT)
def events_remove(s: Store, branch_id: str, key: str) -> None:
    """Take an event off the branch's signing pads."""
    events.remove(s, branch_id, key)
    click.echo(f"event {key} removed at {branch_id}")


COMMANDS = [form, terms_cmd, events_cmd]
