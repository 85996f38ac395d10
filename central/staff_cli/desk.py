"""Staff commands at the desk: patrons, cards, items, loans, holds, inter-branch loans, money."""

import click

from central.circulation import (
    accounts,
    alerts,
    audit,
    branches,
    catalogue,
    holds,
    interbranch,
    loans,
    patrons,
    summary,
)
from central.circulation.store import Store
from central.staff_cli.common import (
    BRANCH,
    PATRON,
    STAFF,
    TEXT,
    day,
    each,
    self_action,
    show,
    staff_action,
    with_store,
)


@click.group("patron")
def patron() -> None:
    """Patrons, their cards, blocks and accounts."""


@patron.command("add")
@with_store
@staff_action("patron.add", creates="patron")
@click.argument("surname")
@click.option("--category", default="adult", show_default=True)
@BRANCH
@STAFF
@click.option("--first-name")
@click.option("--birth-date")
@click.option("--email")
@click.option("--phone")
@click.option("--language")
@click.option("--library-card", help="Library card number.")
@click.option("--city-card", help="City card UID (hex) to link.")
@click.option("--paper-form", is_flag=True,
              help="The patron signed the registration form on paper in front of you.")
def patron_add(s: Store, surname: str, category: str, branch_id: str, staff_id: str,
               library_card: str | None, city_card: str | None, paper_form: bool,
               **fields: str | None) -> int:
    """Register a patron (only the surname is required; the form is signed on the pad, or on
    paper with --paper-form)."""
    with s.atomic():        # a bad or taken card registers nobody
        pid = patrons.add_patron(s, surname, category, branch=branch_id,
                                 library_card=library_card,
                                 **{k: v for k, v in fields.items() if v is not None})
        if city_card is not None:
            patrons.add_card(s, pid, city_card, "city")
        if paper_form:
            patrons.record_paper_form(s, pid, audit.Actor(staff_id, branch_id))
    click.echo(f"patron {pid} registered")
    return pid


@patron.command("show")
@with_store
@PATRON
@BRANCH
def patron_show(s: Store, patron_id: int, branch_id: str) -> None:
    """A patron's account as the branch sees it."""
    show(summary.summary(s, patron_id, branch_id))


@patron.command("search")
@with_store
@click.option("--surname", help="The start of the surname, any case, diacritics or not.")
@click.option("--first-name", help="The start of the first name, any case, diacritics or not.")
@click.option("--birth-date", help="YYYY-MM-DD.")
@click.option("--email")
@click.option("--phone", help="The number's last digits, written any way.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
def patron_search(s: Store, limit: int, **terms: str | None) -> None:
    """Find patrons by surname, first name, birth date, e-mail or phone (all given must match)."""
    show(patrons.search(s, limit, **{k: v for k, v in terms.items() if v is not None}))


@patron.command("edit")
@with_store
@PATRON
@BRANCH
@STAFF
@click.option("--surname")
@click.option("--first-name")
@click.option("--birth-date", help="YYYY-MM-DD.")
@click.option("--email")
@click.option("--phone")
@click.option("--address")
@click.option("--language")
@click.option("--notify", type=click.Choice(patrons.NOTIFY))
@click.option("--note")
@click.option("--category")
def patron_edit(s: Store, patron_id: int, branch_id: str, staff_id: str,
                **fields: str | None) -> None:
    """Change a patron's details (the audit log keeps what each field was)."""
    given = {k: v for k, v in fields.items() if v is not None}
    if not given:
        raise click.UsageError("say what to change, e.g. --email or --phone")
    show({"patron": patron_id,
          "changed": patrons.edit(s, patron_id, audit.Actor(staff_id, branch_id), **given)})


@patron.command("card")
@with_store
@staff_action("patron.card", at_login=True)
@PATRON
@click.argument("card")
@click.option("--kind", type=click.Choice(patrons.CARD_KINDS), default="city", show_default=True)
@click.option("--remove", is_flag=True, help="Take the card away instead.")
def patron_card(s: Store, patron_id: int, card: str, kind: str, remove: bool) -> None:
    """Link a card to a patron (or remove it); doors and kiosks follow within seconds."""
    if remove:
        patrons.remove_card(s, card, kind)
        click.echo("card removed")
    else:
        click.echo(f"card {patrons.add_card(s, patron_id, card, kind)} linked to {patron_id}")


@patron.command("block")
@with_store
@PATRON
@BRANCH
@STAFF
@click.option("--lift", is_flag=True, help="Lift the block.")
@click.option("--note", help="Why (e.g. legal action).")
def patron_block(s: Store, patron_id: int, branch_id: str, staff_id: str, lift: bool,
                 note: str | None) -> None:
    """Block a patron at every branch and door (or lift the block)."""
    patrons.set_blocked(s, patron_id, not lift, note, audit.Actor(staff_id, branch_id))
    click.echo(f"patron {patron_id} {'unblocked' if lift else 'blocked'}")


@patron.command("agreement")
@with_store
@PATRON
@BRANCH
@STAFF
@click.option("--withdraw", is_flag=True, help="The patron withdrew it.")
def patron_agreement(s: Store, patron_id: int, branch_id: str, staff_id: str,
                     withdraw: bool) -> None:
    """Record the patron's signed evening-hours agreement (doors that require it admit them)."""
    patrons.set_agreement(s, patron_id, not withdraw, audit.Actor(staff_id, branch_id))
    click.echo(f"patron {patron_id}: agreement {'withdrawn' if withdraw else 'signed'}")


@patron.command("pin")
@with_store
@staff_action("patron.pin", at_login=True)
@PATRON
@click.option("--clear", is_flag=True)
def patron_pin(s: Store, patron_id: int, clear: bool) -> None:
    """Set (asked for, hidden) or clear a patron's kiosk PIN."""
    pin = None if clear else click.prompt("PIN", hide_input=True, confirmation_prompt=True)
    patrons.set_pin(s, patron_id, pin)
    click.echo("PIN cleared" if clear else "PIN set")


@click.command("checkout")
@with_store
@staff_action("checkout")
@PATRON
@click.argument("items", nargs=-1, required=True)
@BRANCH
@click.option("--override", multiple=True, type=click.Choice(sorted(loans.OVERRIDABLE)),
              help="A check you decided to pass (kept on the loan with your name).")
@STAFF
def checkout(s: Store, patron_id: int, items: tuple[str, ...], branch_id: str,
             override: tuple[str, ...], staff_id: str) -> None:
    """Lend ITEMS (barcode, accession or call number) to a patron; each gets its answer."""
    actor = audit.Actor(staff_id, branch_id)
    each(items, lambda item: loans.checkout(s, patron_id, item, branch_id,
                                            overrides=frozenset(override), actor=actor))


@click.command("checkin")
@with_store
@staff_action("checkin")
@click.argument("items", nargs=-1, required=True)
@BRANCH
def checkin(s: Store, items: tuple[str, ...], branch_id: str) -> None:
    """Take ITEMS back; prints each one's fine and where it goes (shelf, hold shelf, transit),
    or why it was refused."""
    each(items, lambda item: loans.checkin(s, item, branch_id))


@click.command("renew")
@with_store
@staff_action("loan.renew")
@PATRON
@STAFF
@click.option("--loan", "loan_ids", multiple=True, type=int, help="Only these loans.")
@click.option("--branch", "branch_ids", multiple=True,
              help="Only loans of these branches (default: every branch you work at).")
@click.option("--days", type=click.IntRange(1, 3650),
              help="Move due dates N days later instead of a new loan period.")
def renew(s: Store, patron_id: int, staff_id: str, loan_ids: tuple[int, ...],
          branch_ids: tuple[str, ...], days: int | None) -> None:
    """Renew a patron's loans (all, chosen ones, or those of chosen branches) lent at the
    branches you work at: a loan is renewed where it was lent."""
    at = branches.working_at(s, staff_id, branch_ids)
    if loan_ids:
        each(loan_ids, lambda i: loans.renew(s, i, patron_id=patron_id, at=at, days=days))
    else:
        show(loans.renew_all(s, patron_id, branches=at, days=days))


@click.group("hold")
def hold() -> None:
    """Holds, the hold shelf and expiry."""


@hold.command("place")
@with_store
@staff_action("hold.place")
@PATRON
@click.argument("item")
@BRANCH
def hold_place(s: Store, patron_id: int, item: str, branch_id: str) -> None:
    """Place a hold on the title of ITEM at the branch."""
    show(holds.place(s, patron_id, item, branch_id))


@hold.command("cancel")
@with_store
@staff_action("hold.cancel")
@click.argument("hold_id", type=int)
def hold_cancel(s: Store, hold_id: int) -> None:
    """Cancel a hold (a set-aside copy goes to the next in line)."""
    show(holds.cancel(s, hold_id) or {"cancelled": hold_id})


@hold.command("shelf")
@with_store
@BRANCH
def hold_shelf(s: Store, branch_id: str) -> None:
    """The branch's set-aside list."""
    show(holds.shelf(s, branch_id))


@hold.command("purge")
@with_store
@self_action("hold.purge")
def hold_purge(s: Store) -> None:
    """Expire uncollected and stale holds library-wide (run daily)."""
    show(holds.purge_expired(s))


@click.group("ib")
def ib() -> None:
    """Inter-branch loans."""


@ib.command("request")
@with_store
@staff_action("ib.request")
@PATRON
@click.argument("item")
@BRANCH
@click.option("--from", "from_branch", help="Ask this branch only.")
def ib_request(s: Store, patron_id: int, item: str, branch_id: str,
               from_branch: str | None) -> None:
    """Ask other branches for ITEM's title for a patron of this branch."""
    show(interbranch.request(s, patron_id, item, branch_id, from_branch))


@ib.command("lend")
@with_store
@staff_action("ib.lend")
@click.argument("ib_id", type=int)
def ib_lend(s: Store, ib_id: int) -> None:
    """Send a set-aside copy to the requesting branch."""
    show(interbranch.lend(s, ib_id))


@ib.command("list")
@with_store
@click.option("--branch", "branch_id")
@click.option("--history", is_flag=True, help="Closed ones instead of current ones.")
@click.option("--overdue", is_flag=True)
@click.option("--to-send", is_flag=True, help="Copies the --branch must send.")
def ib_list(s: Store, branch_id: str | None, history: bool, overdue: bool, to_send: bool) -> None:
    """Inter-branch loans: current, historical, overdue, or to send."""
    if to_send:
        if branch_id is None:
            raise click.UsageError("--to-send needs --branch (the branch that sends)")
        show(interbranch.requests_for(s, branch_id))
    elif overdue:
        show(interbranch.overdue(s, branch_id))
    else:
        show(interbranch.search(s, branch_id, current=not history))


@click.group("money")
def money() -> None:
    """Debts, payments, credit, receipts and reports."""


@money.command("pay")
@with_store
@PATRON
@click.argument("amount", type=int)
@BRANCH
@STAFF
@click.option("--debt", "debt_ids", multiple=True, type=int, help="Pay these debts only.")
@click.option("--method", type=click.Choice(["cash", "card", "transfer"]), default="cash")
def money_pay(s: Store, patron_id: int, amount: int, branch_id: str, staff_id: str,
              debt_ids: tuple[int, ...], method: str) -> None:
    """Record a payment (minor units); the rest of the amount becomes credit."""
    show(accounts.pay(s, patron_id, branch_id, amount, debt_ids=list(debt_ids) or None,
                      method=method, staff_id=staff_id))


@money.command("charge")
@with_store
@staff_action("money.charge")
@PATRON
@click.argument("kind", type=click.Choice(accounts.KINDS))
@click.argument("amount", type=int)
@BRANCH
@click.option("--note")
def money_charge(s: Store, patron_id: int, kind: str, amount: int, branch_id: str,
                 note: str | None) -> None:
    """Charge a patron (e.g. a replacement)."""
    click.echo(f"debt {accounts.add_debt(s, patron_id, branch_id, kind, amount, note)}")


@money.command("use-credit")
@with_store
@staff_action("money.use_credit")
@PATRON
@BRANCH
@STAFF
def money_credit(s: Store, patron_id: int, branch_id: str, staff_id: str) -> None:
    """Settle the branch's open debts from the credit the patron paid at the branch."""
    show(accounts.use_credit(s, patron_id, branch_id, staff_id=staff_id))


@money.command("edit")
@with_store
@click.argument("payment_id", type=int)
@STAFF
@click.option("--amount", type=click.IntRange(min=1))
@click.option("--method", type=click.Choice(["cash", "card", "transfer"]))
@click.option("--delete", is_flag=True)
def money_edit(s: Store, payment_id: int, staff_id: str, amount: int | None, method: str | None,
               delete: bool) -> None:
    """Correct or delete a payment (cashiers; a supervisor for an earlier day)."""
    if delete:
        accounts.delete_payment(s, payment_id, staff_id)
        click.echo(f"payment {payment_id} deleted")
    else:
        show(accounts.edit_payment(s, payment_id, staff_id, amount=amount, method=method))


@money.command("receipt")
@with_store
@click.argument("payment_id", type=int)
def money_receipt(s: Store, payment_id: int) -> None:
    """A payment's receipt."""
    show(accounts.receipt(s, payment_id))


@money.command("report")
@with_store
@BRANCH
@click.option("--from", "start", required=True)
@click.option("--to", "end")
def money_report(s: Store, branch_id: str, start: str, end: str | None) -> None:
    """Payments per day and method, and the payments edited or deleted, with who did it and the
    payment before and after (a daily report without --to)."""
    first, last = day(start), day(start if end is None else end)
    show({"days": accounts.report(s, branch_id, first, last),
          "corrections": accounts.corrections(s, branch_id, first, last)})


@click.group("alerts")
def alert() -> None:
    """Conflicts found when central applied what devices did offline."""


@alert.command("list")
@with_store
@click.option("--branch", "branch_id")
def alert_list(s: Store, branch_id: str | None) -> None:
    """Open alerts."""
    show(alerts.open_alerts(s, branch_id))


@alert.command("resolve")
@with_store
@click.argument("alert_id", type=int)
@STAFF
def alert_resolve(s: Store, alert_id: int, staff_id: str) -> None:
    """Mark an alert dealt with."""
    alerts.resolve(s, alert_id, staff_id)
    click.echo(f"alert {alert_id} resolved")


@click.group("item")
def item() -> None:
    """Titles and copies."""


@item.command("add")
@with_store
@staff_action("item.add")
@click.argument("barcode", type=TEXT)
@click.argument("title", type=TEXT)
@BRANCH
@click.option("--author")
@click.option("--isbn")
@click.option("--category", default="book", show_default=True)
@click.option("--accession")
@click.option("--call-number")
@click.option("--attachments", help="e.g. CD, DVD: the desk is warned at checkout and return.")
def item_add(s: Store, barcode: str, title: str, branch_id: str, author: str | None,
             isbn: str | None, category: str, accession: str | None, call_number: str | None,
             attachments: str | None) -> None:
    """Add a copy (and its title when new) to a branch's collection."""
    with s.atomic():        # a refused copy leaves no title behind
        title_id = s.scalar("SELECT id FROM titles WHERE title = ?"
                            " AND author IS NOT DISTINCT FROM ?", [title, author]) \
            or catalogue.add_title(s, title, author, isbn)
        catalogue.add_item(s, barcode, title_id, category, branch_id, accession=accession,
                           call_number=call_number, attachments=attachments)
    click.echo(f"item {barcode} added to {branch_id}")


@item.command("show")
@with_store
@click.argument("identifier")
@click.option("--move-to", help="Change the home branch (only while the item is free).")
@click.option("--staff", "staff_id", help="The administrator who moves it (with --move-to).")
def item_show(s: Store, identifier: str, move_to: str | None, staff_id: str | None) -> None:
    """Show an item (by barcode, accession or call number), or move it to another branch."""
    if move_to is not None:
        if staff_id is None:
            raise click.UsageError("--move-to needs --staff: an administrator of the branch")
        catalogue.move_item(s, identifier, move_to, audit.Actor(staff_id))
    show(catalogue.resolve(s, identifier))


COMMANDS = [patron, checkout, checkin, renew, hold, ib, money, alert, item]
