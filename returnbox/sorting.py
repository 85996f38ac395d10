"""Which bin an item goes to: ordered rules over route, category, call number, home branch and
warnings (first match wins), a fallback for full bins, and the offline route from the datasets.

Pure: no I/O. Koha's SIP2SortBinMapping is the anchor; ours also routes by hold and transit.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import cast

from edge_common.protocol.returns import Route
from returnbox.config import BinRule, SortingSection


@dataclass(frozen=True)
class Facts:
    """What the bin rules route an item by (from central's answer, or from the datasets)."""

    route: Route
    category: str = ""
    call_number: str = ""
    home: str = ""
    warnings: tuple[str, ...] = ()


def matches(rule: BinRule, facts: Facts) -> bool:
    """Whether every condition the rule gives holds for the item."""
    call = facts.call_number.casefold()
    return ((not rule.routes or facts.route in rule.routes)
            and (not rule.categories or facts.category in rule.categories)
            and (not rule.call_from or (bool(call) and call >= rule.call_from.casefold()))
            and (not rule.call_to or (bool(call) and call[:len(rule.call_to)]
                                      <= rule.call_to.casefold()))
            and (not rule.homes or facts.home in rule.homes)
            and (not rule.warnings or any(w in facts.warnings for w in rule.warnings)))


@dataclass(frozen=True)
class Choice:
    """The bin chosen (None: every candidate is full) and whether it is the fallback."""

    bin: str | None
    fallback: bool = False
    wanted: str | None = None   # the bin the rules picked, when it was full


def choose_bin(sorting: SortingSection, facts: Facts, full: Collection[str]) -> Choice:
    """The first matching rule's bin; `sort_later` for unroutable items; the fallback when
    nothing matches or the chosen bin is full; None when the fallback is full too."""
    wanted = next((r.bin for r in sorting.rules if matches(r, facts)), None)
    if wanted is None:
        wanted = sorting.sort_later if facts.route == "sort_later" else sorting.fallback
    if wanted not in full:
        return Choice(wanted)
    if sorting.fallback not in full:
        return Choice(sorting.fallback, fallback=True, wanted=wanted)
    return Choice(None, fallback=True, wanted=wanted)


def central_route(route: str, to: str, site: str) -> Route:
    """Central's route word as a bin route: a copy set aside for another branch travels."""
    if route in ("hold_shelf", "reshelve", "transit"):
        return cast(Route, route)
    if route == "ib_set_aside":
        return "hold_shelf" if to == site else "transit"
    return "sort_later"


def offline_facts(held: bool, shelf: tuple[str, str] | None, site: str,
                  warnings: Sequence[str] = ()) -> Facts:
    """The route offline: a held copy goes to the hold bin, a copy of ours by the rules with
    its category and call number (`shelf`), anything else is sorted later by staff."""
    if held:
        return Facts("hold_shelf", home=site, warnings=tuple(warnings))
    if shelf is not None:
        return Facts("reshelve", category=shelf[0], call_number=shelf[1], home=site,
                     warnings=tuple(warnings))
    return Facts("sort_later", warnings=tuple(warnings))
