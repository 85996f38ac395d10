"""The door's verdict on a card, decided locally from the replicated allow-list entry and policy."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

import msgspec

from edge_common.config import Schema
from edge_common.protocol.datasets import AllowEntry
from edge_common.protocol.refusals import Door

GRANTED = Door.GRANTED


class Policy(Schema, frozen=True):
    """Who a door admits; every rule can be switched off."""

    categories: list[str] = []
    # one of central's `door_ages` thresholds (the list tells only which ones a holder reached)
    min_age: Annotated[int, msgspec.Meta(ge=0, le=120)] = 0
    require_valid_membership: bool = True
    # refuse holders who owe more than central's `door_debt_limit`
    refuse_over_debt_limit: bool = False
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


def decide(entry: AllowEntry | None, policy: Policy, s: Situation) -> Door:
    """`granted`, or the first reason the card must not pass, as a stable code."""
    if policy.max_list_age is not None and (s.list_age is None or s.list_age > policy.max_list_age):
        return Door.LIST_STALE
    if entry is None:
        return Door.CARD_UNKNOWN
    if entry.blocked:
        return Door.PATRON_BLOCKED
    if entry.staff and policy.staff_always:
        return Door.GRANTED
    if not s.open_now:
        return Door.CLOSED_NOW
    if policy.categories and entry.category not in policy.categories:
        return Door.CATEGORY_NOT_ALLOWED
    if policy.require_valid_membership and entry.expired_on(s.today):
        return Door.MEMBERSHIP_EXPIRED
    if policy.min_age and policy.min_age not in entry.ages:
        return Door.UNDERAGE
    if policy.refuse_over_debt_limit and entry.over_debt_limit:
        return Door.DEBT_OVER_LIMIT
    if policy.require_agreement and not entry.agreement:
        return Door.NO_AGREEMENT
    if (policy.rate_limit_seconds and s.since_last_grant is not None
            and s.since_last_grant < policy.rate_limit_seconds):
        return Door.RATE_LIMITED
    if policy.anti_passback == "refuse" and s.inside == s.entering:
        return Door.PASSBACK
    return Door.GRANTED
