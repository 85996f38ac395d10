"""Statistics per branch or library-wide, per day: circulation counts and room access."""

from datetime import date

from central.circulation.store import Store

KINDS = ("loans", "returns", "renewals", "new_members", "holds")


def circulation(s: Store, start: date, end: date, branch: str | None = None,
                by_branch: bool = False) -> list[dict]:
    """Per day: loans, returns, renewals, new members, holds — of one branch, of each branch
    (`by_branch`), or library-wide."""
    split = "branch_id" if branch is not None or by_branch else "'*'"
    rows = s.rows(
        f"SELECT day, {split} AS branch, kind, sum(count) AS n FROM circ_counts"
        " WHERE day BETWEEN ? AND ? AND (? IS NULL OR branch_id = ?)"
        " GROUP BY 1, 2, 3 ORDER BY day, branch",
        [start.isoformat(), end.isoformat(), branch, branch])
    days: dict[tuple, dict] = {}
    for r in rows:
        entry = days.setdefault((r["day"], r["branch"]), {
            "day": r["day"], "branch": r["branch"], **dict.fromkeys(KINDS, 0)})
        if r["kind"] in KINDS:
            entry[r["kind"]] = r["n"]
    return list(days.values())


def totals(rows: list[dict]) -> dict:
    """Sum of each count over the rows."""
    return {k: sum(r[k] for r in rows) for k in KINDS}
