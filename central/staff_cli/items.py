"""Staff commands for copies out of stock: mark one lost, missing, damaged or withdrawn, find it
again, and the desk's lists (added to the `item` group)."""

import click

from central.circulation import audit, item_status
from central.circulation.stock import OUT_OF_STOCK
from central.circulation.store import Store
from central.staff_cli.common import BRANCH, STAFF, show, staff_action, with_store


@click.command("mark")
@with_store
@staff_action("item.mark")
@click.argument("identifier")
@click.argument("status", type=click.Choice(OUT_OF_STOCK))
@BRANCH
@STAFF
@click.option("--note", help="What happened (e.g. found wet in the return box).")
def item_mark(s: Store, identifier: str, status: str, branch_id: str, staff_id: str,
              note: str | None) -> None:
    """Take a copy out of stock. On loan: lost or damaged closes the loan and charges the
    replacement, missing closes it with no charge, withdrawn is refused."""
    show(item_status.mark(s, identifier, status, audit.Actor(staff_id, branch_id), note))


@click.command("found")
@with_store
@staff_action("item.found")
@click.argument("identifier")
@BRANCH
@STAFF
def item_found(s: Store, identifier: str, branch_id: str, staff_id: str) -> None:
    """Bring a copy out of stock back: to a waiting hold, or to the shelf."""
    show(item_status.found(s, identifier, audit.Actor(staff_id, branch_id)))


@click.command("list")
@with_store
@BRANCH
@click.option("--status", type=click.Choice(OUT_OF_STOCK), help="Only this status.")
def item_list(s: Store, branch_id: str, status: str | None) -> None:
    """The branch's copies out of stock, newest first, with the patron whose loan each closed."""
    show(item_status.listed(s, branch_id, status))


COMMANDS = [item_mark, item_found, item_list]
