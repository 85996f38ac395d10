"""The door's verdict on a card, decided locally from the replicated allow-list entry and policy."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

import msgspec

from edge_common.config import Schema

GRANTED = "granted"


class Policy(Schema):
    """Who a door admits; every rule can be switched off."""

    categories: list[str] = []
    min_age: Annotated[int, msgspec.Meta(ge=0, le=120)] = 0
    require_valid_membership: bool = True
    max_debt: Annotated[int, msgspec.Meta(ge=0)] | None = None
    require_agreement: bool = False
    staff_always: bool = True
    rate_limit_seconds: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    max_list_age: Annotated[float, msgspec.Meta(gt=0)] | None = None
    anti_passback: Literal["off", "refuse"] = "off"


@dataclass(frozen=True)
class Situation:
    """What the door knows besides the card: date, schedule, list age, the card's last grant."""

    today: date
    open_now: bool
    list_age: float | None
    since_last_grant: float | None = None
    inside: bool = False
    entering: bool = True


def age_on(born: date, day: date) -> int:
    """Whole years between `born` and `day`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _iso(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def decide(entry: dict | None, policy: Policy, s: Situation) -> str:
    """`granted`, or the first reason the card must not pass, as a stable code."""
    if policy.max_list_age is not None and (s.list_age is None or s.list_age > policy.max_list_age):
        return "list_stale"
    if entry is None:
        return "unknown_card"
    if entry.get("blk"):
        return "blocked"
    if entry.get("staff") and policy.staff_always:
        return GRANTED
    if not s.open_now:
        return "closed_now"
    if policy.categories and entry.get("cat") not in policy.categories:
        return "category_not_allowed"
    expires = _iso(entry.get("exp"))
    if policy.require_valid_membership and entry.get("exp") and (expires is None
                                                                 or expires < s.today):
        return "expired"
    born = _iso(entry.get("dob"))
    if policy.min_age and (born is None or age_on(born, s.today) < policy.min_age):
        return "underage"
    debt = entry.get("debt", 0)
    if policy.max_debt is not None and (type(debt) is not int or debt > policy.max_debt):
        return "debt_over_limit"
    if policy.require_agreement and not entry.get("agr"):
        return "no_agreement"
    if (policy.rate_limit_seconds and s.since_last_grant is not None
            and s.since_last_grant < policy.rate_limit_seconds):
        return "rate_limited"
    if policy.anti_passback == "refuse" and s.inside == s.entering:
        return "passback"
    return GRANTED
