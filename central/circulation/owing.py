"""What a patron owes, as SQL: a debt's open part, and the open debts of a patron summed."""

OPEN_SQL = ("d.amount - coalesce((SELECT sum(a.amount) FROM allocations a"
            " JOIN payments p ON p.id = a.payment_id WHERE a.debt_id = d.id"
            " AND p.deleted_at IS NULL), 0)")


def owed_sql(patron: str) -> str:
    """SQL for what the patron `patron` (a column or `?`) owes: open debts of every branch."""
    return f"(SELECT coalesce(sum({OPEN_SQL}), 0) FROM debts d WHERE d.patron_id = {patron})"
