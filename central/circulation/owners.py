"""Which branch owns a branch-bound record (TextLib): a hold the branch that registered it (an
inter-branch hold also the branch it is for), an inter-branch loan the branch that lends the
copy, a payment, an alert and a form the branch where they were made. Staff act on such a
record only at a branch that owns it."""

from central.circulation.errors import NotFound
from central.circulation.store import Store

RECORDS = {  # the parameter naming the record: its table, owning columns, code when unknown
    "hold_id": ("holds", ("branch_id", "for_branch"), "hold_unknown"),
    "ib_id": ("ib_loans", ("home_branch",), "ib_unknown"),
    "payment_id": ("payments", ("branch_id",), "payment_unknown"),
    "alert_id": ("staff_alerts", ("branch_id",), "alert_unknown"),
    "form_id": ("forms", ("branch_id",), "form_unknown"),
}


def owners(s: Store, param: str, value: object) -> list[str] | None:
    """The branches owning the record a command parameter names, or None when the parameter
    names no branch-bound record."""
    if param not in RECORDS or type(value) is not int:
        return None
    table, columns, code = RECORDS[param]
    found = s.row(f"SELECT {', '.join(columns)} FROM {table} WHERE id = ?", [value]) \
        if -2**63 <= value < 2**63 else None
    if found is None:
        raise NotFound(f"no {table.rstrip('s').replace('_', ' ')} {value}", code=code)
    return [found[c] for c in columns if found[c]]
