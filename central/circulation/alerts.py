"""Alerts for staff: conflicts found when central applies what a device did offline."""

from typing import Any

import msgspec

from central.circulation import audit, branches
from central.circulation.errors import NotFound, Refused
from central.circulation.store import Store


def raise_alert(s: Store, branch: str, kind: str, code: str, dev: str | None = None,
                message_id: str | None = None, **details: Any) -> int:
    """Record an alert for the branch's staff."""
    return s.add("staff_alerts", {
        "branch_id": branch, "kind": kind, "code": code, "dev": dev, "message_id": message_id,
        "details": msgspec.json.encode(details).decode(), "created_at": s.now().isoformat()})


def open_alerts(s: Store, branch: str | None = None) -> list[dict]:
    """Unresolved alerts, oldest first."""
    rows = s.rows("SELECT * FROM staff_alerts WHERE resolved_at IS NULL"
                  " AND (? IS NULL OR branch_id = ?) ORDER BY id", [branch, branch])
    for r in rows:
        r["details"] = msgspec.json.decode(r["details"])
    return rows


def resolve(s: Store, alert_id: int, staff_id: str) -> None:
    """Mark an alert dealt with, as a staff member of its branch."""
    found = s.row("SELECT branch_id, resolved_at FROM staff_alerts WHERE id = ?", [alert_id])
    if found is None:
        raise NotFound(f"no alert {alert_id}", code="alert_unknown")
    branches.require_role(s, staff_id, found["branch_id"], *branches.ROLES)
    if found["resolved_at"]:
        raise Refused(f"alert {alert_id} was resolved at {found['resolved_at']}",
                      code="already_resolved")
    with s.atomic():
        s.update("staff_alerts", alert_id, {"resolved_at": s.now().isoformat(),
                                            "resolved_by": staff_id})
        audit.record(s, audit.Actor(staff_id, found["branch_id"]), "alert.resolve",
                     f"alert:{alert_id}", {"resolved": False}, {"resolved": True})
