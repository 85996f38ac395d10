"""The audit log: which staff member did what to whom, where and when, with before and after."""

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from central.circulation.store import Store


@dataclass(frozen=True)
class Actor:
    """Who does a staff action and at which branch (None: library-wide); the domain checks
    that they may, and the audit log names them. A device acting on its own (a kiosk's offline
    loans reconciled at central) is named `device:<id>` and has no staff role to check."""

    staff_id: str
    branch_id: str | None = None
    device: bool = False

    @classmethod
    def of_device(cls, dev: str, site: str) -> "Actor":
        """A device acting at its site."""
        return cls(f"device:{dev}", site, device=True)


def record(s: Store, actor: Actor, action: str, subject: str,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           outcome: str | None = None) -> None:
    """Log one staff action (inside the caller's transaction, so it lands with the change);
    a command logged as a whole says how it ended (`ok` or the refusal's code)."""
    s.insert("audit", {"at": s.now().isoformat(), "staff_id": actor.staff_id,
                       "branch_id": actor.branch_id, "outcome": outcome,
                       "action": action, "subject": subject,
                       "before": _text(before), "after": _text(after)})


def forget(s: Store, subject: str) -> None:
    """Drop the values logged about a subject (an erased patron), keeping who did what when."""
    s.db.execute("UPDATE audit SET before = NULL, after = NULL WHERE subject = ?", [subject])


def _text(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def entries(s: Store, *, subject: str | None = None, staff_id: str | None = None,
            since: date | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest entries first, optionally for one subject, one staff member or from a day."""
    found = s.rows(
        "SELECT * FROM audit WHERE (? IS NULL OR subject = ?) AND (? IS NULL OR staff_id = ?)"
        " AND (? IS NULL OR at >= ?) ORDER BY id DESC LIMIT ?",
        [subject, subject, staff_id, staff_id, since and since.isoformat(),
         since and since.isoformat(), limit])
    for row in found:
        for side in ("before", "after"):
            row[side] = json.loads(row[side]) if row[side] is not None else None
    return found
