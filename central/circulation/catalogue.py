"""Categories, the loan-rule matrix, titles and items, and resolving an item identifier."""

from typing import Any

from central.circulation import audit, bounds, branches
from central.circulation.errors import NotFound, Refused
from central.circulation.store import Store

ANY = "*"
# The least and the most of each rule field: a loan lasts at least a day, fines stay amounts.
RULE_BOUNDS = {"may_borrow": (0, 1), "loan_days": (1, 3650), "max_items": (0, 10_000),
               "max_renewals": (0, 1000), "fine_per_day": (0, bounds.MAX_AMOUNT),
               "fine_cap": (0, bounds.MAX_AMOUNT), "hold_allowed": (0, 1),
               "ib_loan_days": (1, 3650), "ib_max_items": (0, 10_000)}
CATEGORY_BOUNDS = {"max_items": (0, 10_000), "membership_months": (1, 1200),
                   "fee": (0, bounds.MAX_AMOUNT), "legal_person": (0, 1),
                   "guardian_under": (0, 120)}


def add_patron_category(s: Store, code: str, name: str, **fields: Any) -> None:
    """A patron category (fields: max_items, membership_months, fee, legal_person,
    guardian_under)."""
    _check_numbers(fields, CATEGORY_BOUNDS, "bad_value")
    with s.atomic():
        s.insert("patron_categories", {"code": code, "name": name, **fields})


def add_item_category(s: Store, code: str, name: str, in_library_only: bool = False) -> None:
    """An item category (book, DVD, magazine, reference, ...)."""
    with s.atomic():
        s.insert("item_categories", {"code": code, "name": name,
                                     "in_library_only": int(in_library_only)})


def set_rule(s: Store, patron_category: str, item_category: str, **fields: Any) -> None:
    """Set one cell of the matrix; "*" on either side is the fallback for that side. A new
    cell starts as the rule that applied to the pair until now, so it differs only in the
    fields given."""
    _check_numbers(fields, RULE_BOUNDS, "bad_rule")
    for table, code in (("patron_categories", patron_category),
                        ("item_categories", item_category)):
        if code != "*":
            _category(s, table, code)
    with s.atomic():
        if not s.scalar("SELECT 1 FROM loan_rules WHERE patron_category = ?"
                        " AND item_category = ?", [patron_category, item_category]):
            s.insert("loan_rules", {"patron_category": patron_category,
                                    "item_category": item_category,
                                    **_in_force(s, patron_category, item_category)})
        if fields:
            sets = ", ".join(f"{f} = ?" for f in fields)
            s.db.execute(f"UPDATE loan_rules SET {sets} WHERE patron_category = ?"
                           " AND item_category = ?", [*fields.values(), patron_category,
                                                      item_category])
    s.forget()


def _check_numbers(fields: dict[str, Any], known: dict[str, tuple[int, int]], code: str) -> None:
    """Refuse (with `code`) a field not in `known` or a value out of its (least, most)."""
    for name, value in fields.items():
        if name not in known:
            raise Refused(f"unknown field {name!r}", code=code)
        least, most = known[name]
        if type(value) is not int or not least <= value <= most:
            raise Refused(f"{name} is a whole number from {least} to {most}", code=code)


def rule(s: Store, patron_category: str, item_category: str) -> dict:
    """The most specific rule for the pair (exact, then either side "*", then "*"/"*")."""
    def find() -> dict[str, Any] | None:
        for pc, ic in ((patron_category, item_category), (patron_category, ANY),
                       (ANY, item_category), (ANY, ANY)):
            found = s.row("SELECT * FROM loan_rules WHERE patron_category = ?"
                          " AND item_category = ?", [pc, ic])
            if found:
                return found
        return None
    found = s._cached(("rule", patron_category, item_category), find)
    if found is None:
        raise Refused(f"no loan rule for {patron_category}/{item_category}", code="no_rule")
    return found


def _in_force(s: Store, patron_category: str, item_category: str) -> dict[str, Any]:
    """The fields of the rule that applies to the pair now (none: the table's defaults)."""
    try:
        found = rule(s, patron_category, item_category)
    except Refused:
        return {}
    return {f: found[f] for f in RULE_BOUNDS}


def _category(s: Store, table: str, code: str) -> dict:
    found = s._cached((table, code), lambda: s.row(
        f"SELECT * FROM {table} WHERE code = ?", [code]))
    if found is None:
        raise NotFound(f"no {table[:-11]} category {code!r}", code="category_unknown")
    return found


def item_category(s: Store, code: str) -> dict:
    """An item category's row."""
    return _category(s, "item_categories", code)


def patron_category(s: Store, code: str) -> dict:
    """A patron category's row."""
    return _category(s, "patron_categories", code)


def add_title(s: Store, title: str, author: str | None = None, isbn: str | None = None,
              quick: bool = False) -> int:
    """A bibliographic record; items are its copies."""
    with s.atomic():
        return s.add("titles", {"title": title, "author": author, "isbn": isbn,
                                   "quick": int(quick)})


def add_item(s: Store, barcode: str, title_id: int, category: str, branch: str,
             accession: str | None = None, call_number: str | None = None,
             attachments: str | None = None, generic: bool = False) -> int:
    """A copy at its home branch."""
    if not barcode or len(barcode) > 64:
        raise Refused("a barcode is 1 to 64 characters", code="bad_barcode")
    item_category(s, category)
    s.branch(branch)
    with s.atomic():
        item_id = s.add("items", {
            "barcode": barcode, "accession": accession, "call_number": call_number,
            "title_id": title_id, "category": category, "home_branch": branch,
            "at_branch": branch, "attachments": attachments, "generic": int(generic)})
        s.title_changed(title_id)
    return item_id


ITEM_SQL = ("SELECT i.*, t.title, t.author FROM items i JOIN titles t ON t.id = i.title_id"
            " WHERE i.{} = ?")


def resolve(s: Store, identifier: str) -> dict:
    """The item a barcode, accession number or call number names (case-sensitive), or NotFound."""
    found = s.row(ITEM_SQL.format("barcode"), [identifier])
    found = found or s.row(ITEM_SQL.format("accession"), [identifier])
    if found is None:
        copies = s.rows(ITEM_SQL.format("call_number") + " LIMIT 2", [identifier])
        if len(copies) > 1:
            raise Refused(f"{identifier!r} is the call number of several copies",
                          code="item_ambiguous")
        found = copies[0] if copies else None
    if found is None:
        raise NotFound(f"no item {identifier!r}", code="item_unknown")
    return found


def item(s: Store, item_id: int) -> dict:
    """An item by id."""
    found = s.row(ITEM_SQL.format("id"), [item_id])
    if found is None:
        raise NotFound(f"no item {item_id}", code="item_unknown")
    return found


def move_item(s: Store, identifier: str, branch: str, actor: audit.Actor) -> None:
    """Move an item to another branch's collection as an administrator of its branch; the
    audit log keeps where it was."""
    found = resolve(s, identifier)
    branches.require_role(s, actor.staff_id, found["home_branch"], "admin")
    with s.atomic():
        change_home_branch(s, identifier, branch)
        audit.record(s, audit.Actor(actor.staff_id, found["home_branch"]), "item.move",
                     f"item:{found['barcode']}",
                     {"home_branch": found["home_branch"]}, {"home_branch": branch})


def change_home_branch(s: Store, identifier: str, branch: str) -> None:
    """Move an item to another branch's collection: only while it is free (`move_item` is the
    staff's way, with the role checked)."""
    found = resolve(s, identifier)
    s.branch(branch)
    if found["status"] != "available" or found["at_branch"] != found["home_branch"]:
        raise Refused("the item is not free", code="item_not_free")
    with s.atomic():
        s.update("items", found["id"], {"home_branch": branch, "at_branch": branch})
        s.title_changed(found["title_id"], left=(found["home_branch"],))
