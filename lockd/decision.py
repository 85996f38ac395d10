"""The door's verdict on a card, decided locally from the replicated allow-list entry."""

from datetime import date


def decide(entry: dict | None, today: date) -> str:
    """A reason code: granted, or why not (unknown_card, blocked, expired)."""
    if entry is None:
        return "unknown_card"
    if entry.get("blk"):
        return "blocked"
    if entry.get("staff"):
        return "granted"
    exp = entry.get("exp")
    if exp and date.fromisoformat(exp) < today:
        return "expired"
    return "granted"
