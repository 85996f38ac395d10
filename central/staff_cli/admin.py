"""Staff commands for the back office: patron lifecycle, reminders, cleanup, import, statistics."""

from pathlib import Path

import click

from central import access_counts
from central.circulation import audit, imports, lifecycle, mailer, patrons, reminders, stats
from central.circulation.store import Store
from central.staff_cli.common import (
    BRANCH,
    PATRON,
    STAFF,
    Refusals,
    day,
    self_action,
    show,
    staff_action,
    with_store,
)


@click.group("member")
def member() -> None:
    """Pre-registration, completion, renewal, archive, restore, anonymisation, erasure."""


@member.command("preregister")
@with_store
@self_action("patron.preregister", "online")
@click.argument("surname")
@click.option("--category", default="adult", show_default=True)
@click.option("--branch", "branch_id", required=True, help="Where the patron will come.")
@click.option("--first-name")
@click.option("--email")
def member_preregister(s: Store, surname: str, category: str, branch_id: str,
                       first_name: str | None, email: str | None) -> None:
    """Register online ahead of the first visit (the fee is owed from now)."""
    fields = {k: v for k, v in {"first_name": first_name, "email": email}.items() if v}
    pid = lifecycle.preregister(s, surname, category, branch_id, **fields)
    click.echo(f"pre-registered patron {pid}")


@member.command("complete")
@with_store
@staff_action("patron.complete")
@PATRON
@BRANCH
@STAFF
@click.option("--paper-form", is_flag=True,
              help="The patron signed the registration form on paper in front of you.")
def member_complete(s: Store, patron_id: int, branch_id: str, staff_id: str,
                    paper_form: bool) -> None:
    """Finish a pre-registration at the desk (the form is signed on the pad, or on paper)."""
    show(lifecycle.complete(s, patron_id, branch_id, staff_id, paper_form=paper_form))


@member.command("paper-form")
@with_store
@PATRON
@BRANCH
@STAFF
def member_paper_form(s: Store, patron_id: int, branch_id: str, staff_id: str) -> None:
    """Record that the patron signed the registration form on paper in front of you."""
    show(patrons.record_paper_form(s, patron_id, audit.Actor(staff_id, branch_id)))


@member.command("renew")
@with_store
@staff_action("member.renew")
@PATRON
@BRANCH
def member_renew(s: Store, patron_id: int, branch_id: str) -> None:
    """Extend a membership by its category's period, with the fee."""
    show(lifecycle.renew_membership(s, patron_id, branch_id))


@member.command("archive")
@with_store
@staff_action("member.archive", at_login=True)
@PATRON
@click.option("--restore", is_flag=True, help="Bring an archived patron back instead.")
def member_archive(s: Store, patron_id: int, restore: bool) -> None:
    """Delete a patron into the archive (all loans returned), or restore one."""
    (lifecycle.restore if restore else lifecycle.archive)(s, patron_id)
    click.echo(f"patron {patron_id} {'restored' if restore else 'archived'}")


@member.command("erase")
@with_store
@PATRON
@BRANCH
@STAFF
@click.confirmation_option(prompt="Erase this patron's personal data for good?")
def member_erase(s: Store, patron_id: int, branch_id: str, staff_id: str) -> None:
    """Remove a patron's personal data everywhere (devices forget their cards)."""
    lifecycle.erase(s, patron_id, audit.Actor(staff_id, branch_id))
    click.echo(f"patron {patron_id} erased")


@member.command("anonymise")
@with_store
@staff_action("member.anonymise", "admin")
@click.option("--before", help="Returned before this date (YYYY-MM-DD).")
@click.option("--patron", help="Only this patron (id, library card or city card).")
def member_anonymise(s: Store, before: str | None, patron_id: int | None) -> None:
    """Cut returned loans from their borrowers."""
    click.echo(f"{lifecycle.anonymise_loans(s, day(before), patron_id)} loans anonymised")


@member.command("cleanup")
@with_store
@staff_action("member.cleanup", "admin")
@click.option("--days", type=click.IntRange(1, 36500),
              help="Unfinished for more than DAYS (default: setting).")
def member_cleanup(s: Store, days: int | None) -> None:
    """Delete stale unfinished registrations (never who completed, signed, borrowed or paid)."""
    show(lifecycle.cleanup(s, days))


@click.command("reminders")
@with_store
@self_action("reminders.run")
@click.option("--branch", "branch_id", help="Only this branch (default: all).")
def reminders_cmd(s: Store, branch_id: str | None) -> None:
    """Overdue notices with fees, due-date warnings and membership expiry (safe to re-run)."""
    show({"overdue": reminders.run(s, branch_id),
          "due_warnings": reminders.due_warnings(s, branch_id),
          "memberships_charged": reminders.memberships(s, branch_id)})


@click.command("import")
@with_store
@staff_action("import", "admin")
@click.argument("what", type=click.Choice(["patrons", "items"]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Import nothing if any row is rejected.")
def import_cmd(s: Store, what: str, path: Path, strict: bool) -> None:
    """Import patrons or items from a CSV file and report rejected rows."""
    fn = imports.import_patrons if what == "patrons" else imports.import_items
    report = fn(s, path.read_bytes(), strict=strict)
    show(report)
    if report.rejected:
        raise Refusals(report.imported)


@click.command("stats")
@with_store
@click.option("--from", "start", required=True)
@click.option("--to", "end")
@click.option("--branch", "branch_id", help="One branch (default: library-wide).")
@click.option("--by-branch", is_flag=True, help="Each branch separately.")
@click.option("--rooms", is_flag=True, help="Room access by card instead of circulation.")
def stats_cmd(s: Store, start: str, end: str | None, branch_id: str | None, by_branch: bool,
              rooms: bool) -> None:
    """Loans, returns, renewals and new members per day, or room access for facilities."""
    first, last = day(start), day(start if end is None else end)
    if rooms:
        show(access_counts.room_access(s.db, first, last, branch_id))
        return
    rows = stats.circulation(s, first, last, branch_id, by_branch)
    show({"days": rows, "total": stats.totals(rows)})


@click.group("notices")
def notices_cmd() -> None:
    """Deliver the notices queued for patrons (receipts, holds ready, reminders)."""


@notices_cmd.command("send")
@with_store
@self_action("notices.send")
@click.option("--smtp-host", help="Mail server (default: setting smtp_host).")
@click.option("--smtp-port", type=click.IntRange(1, 65535),
              help="Its port (default: setting smtp_port).")
@click.option("--smtp-security", type=click.Choice(["none", "starttls", "ssl"]),
              help="Encryption (default: setting smtp_security).")
@click.option("--smtp-user", help="Login name (default: setting smtp_username; empty: no login).")
@click.option("--smtp-password", envvar="LIBEDGE_SMTP_PASSWORD", default="",
              help="Login password (better: the LIBEDGE_SMTP_PASSWORD environment variable).")
@click.option("--smtp-cafile", type=click.Path(exists=True, dir_okay=False),
              help="CA certificates to trust instead of the system's (a private CA).")
@click.option("--branch", "branch_id", help="Only this branch's notices (default: all).")
@click.option("--limit", type=click.IntRange(1, 1_000_000), help="Send at most this many.")
def notices_send(s: Store, smtp_host: str | None, smtp_port: int | None,
                 smtp_security: mailer.Security | None, smtp_user: str | None,
                 smtp_password: str, smtp_cafile: str | None, branch_id: str | None,
                 limit: int | None) -> None:
    """E-mail the pending notices; what fails stays pending for the next run (exit 1)."""
    cfg = s.settings
    host = smtp_host or cfg.smtp_host
    if not host:
        raise click.UsageError("no mail server: give --smtp-host or set smtp_host")
    smtp = mailer.SmtpConfig(
        host, smtp_port or cfg.smtp_port, smtp_security or cfg.smtp_security,
        cfg.smtp_username if smtp_user is None else smtp_user, smtp_password, smtp_cafile)
    report = mailer.send(s, smtp, branch_id, limit)
    show(report)
    if report["failed"]:
        raise SystemExit(1)


@click.command("audit")
@with_store
@click.option("--patron", help="Only what was done to this patron (id, library card or city card).")
@click.option("--staff", "staff_id", help="Only what this staff member did.")
@click.option("--since", help="From this day (YYYY-MM-DD).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000))
def audit_cmd(s: Store, patron_id: int | None, staff_id: str | None, since: str | None,
              limit: int) -> None:
    """Who did what, where and when, with the values before and after (newest first)."""
    subject = None if patron_id is None else f"patron:{patron_id}"
    show(audit.entries(s, subject=subject, staff_id=staff_id,
                       since=day(since), limit=limit))


COMMANDS = [member, reminders_cmd, notices_cmd, import_cmd, stats_cmd, audit_cmd]
