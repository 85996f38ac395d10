"""The `held_items` and `shelf_items` datasets a return box sorts by while its link is down.

`held_items` of a branch: copies that, returned there, would fill a waiting hold of that
branch (or be set aside for an inter-branch hold it registered), and inter-branch copies on
their way to it; `shelf_items`: copies whose home is the branch, with category and call
number. Both are published to sites that have devices (a card key), in full when a site gets
its first device, and per title in the transaction of every change that moves a copy in or
out (a hold placed, cancelled, filled or expired; a copy added, lent, returned or moved).
"""

from typing import Any

from central import datasets, fleet
from central.circulation.stock import IN_STOCK_SQL
from central.database import Database
from edge_common.protocol.returns import HELD_ITEMS, SHELF_ITEMS, HeldItem, ShelfItem

_FREE = IN_STOCK_SQL


def _held_sql(one_title: bool) -> str:
    """Held copies of site ?1 (of title ?2 when `one_title`: the title index then serves)."""
    title = "AND i.title_id = ?2" if one_title else ""
    return (f"SELECT i.barcode FROM items i WHERE i.home_branch = ?1 AND i.{_FREE} {title}"
            " AND EXISTS (SELECT 1 FROM holds h WHERE h.title_id = i.title_id"
            " AND h.branch_id = ?1 AND h.state = 'waiting')"
            " UNION SELECT i.barcode FROM ib_loans b JOIN items i ON i.id = b.item_id"
            f" WHERE b.to_branch = ?1 AND b.state = 'in_transit' {title}")


def _shelf_sql(one_title: bool) -> str:
    """Shelf copies of site ?1 (of title ?2 when `one_title`)."""
    title = "AND title_id = ?2" if one_title else ""
    return (f"SELECT barcode, category, call_number FROM items WHERE home_branch = ?1"
            f" AND {_FREE} {title}")


def _branches(db: Database, title_id: int) -> set[str]:
    """The branches where a title's copies may be listed: their home branches and every
    branch that ever held the title or was sent one of its copies (rows there stay)."""
    return {branch for (branch,) in db.execute(
        "SELECT home_branch FROM items WHERE title_id = ?1 UNION SELECT branch_id FROM holds"
        " WHERE title_id = ?1 UNION SELECT b.to_branch FROM ib_loans b JOIN items i"
        " ON i.id = b.item_id WHERE i.title_id = ?1", [title_id])}


def held(db: Database, site: str, title_id: int | None = None) -> dict[str, Any]:
    """The site's `held_items` rows (of one title, or all), keyed by barcode."""
    sql, args = _held_sql(title_id is not None), [site] + ([title_id] if title_id else [])
    return {code: HeldItem() for (code,) in db.execute(sql, args)}


def shelf(db: Database, site: str, title_id: int | None = None) -> dict[str, Any]:
    """The site's `shelf_items` rows (of one title, or all), keyed by barcode."""
    sql, args = _shelf_sql(title_id is not None), [site] + ([title_id] if title_id else [])
    return {code: ShelfItem(category=cat, call_number=call or "")
            for code, cat, call in db.execute(sql, args)}


def publish_site(db: Database, site: str) -> None:
    """Make the site's two datasets whole (in the caller's transaction), e.g. on its first
    device."""
    datasets.replace(db, site, HELD_ITEMS, held(db, site))
    datasets.replace(db, site, SHELF_ITEMS, shelf(db, site))


def refresh_title(db: Database, title_id: int, also: tuple[str, ...] = ()) -> None:
    """Bring the rows of one title's copies up to date at every site that may list them, and
    at the sites `also` (a branch a copy just left), in the caller's transaction."""
    keys = [code for (code,) in db.execute("SELECT barcode FROM items WHERE title_id = ?",
                                           [title_id])]
    if not keys:
        return
    keyed = set(fleet.keyed_sites(db))
    for site in sorted((_branches(db, title_id) | set(also)) & keyed):
        datasets.replace(db, site, HELD_ITEMS, held(db, site, title_id), keys)
        datasets.replace(db, site, SHELF_ITEMS, shelf(db, site, title_id), keys)
