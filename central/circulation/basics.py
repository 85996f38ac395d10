"""Categories, loan rules and holidays of a typical city library, for new installs and tests."""

from datetime import date

from central.circulation import branches, catalogue
from central.circulation.store import Store

PATRON_CATEGORIES = [
    ("adult", "Adult", {"max_items": 20, "fee": 1800}),
    ("child", "Child (under 15)", {"max_items": 10, "fee": 0}),
    ("student", "Student", {"max_items": 20, "fee": 900}),
    ("senior", "Senior", {"max_items": 20, "fee": 900}),
    ("staff", "Library staff", {"max_items": 50, "fee": 0}),
    ("legal", "Legal person", {"max_items": 50, "fee": 5000, "legal_person": 1}),
]
ITEM_CATEGORIES = [
    ("book", "Book", False), ("dvd", "DVD", False), ("magazine", "Magazine", False),
    ("audiobook", "Audiobook", False), ("reference", "Reference", True),
]
RULES = [
    ("*", "*", {"loan_days": 21, "max_items": 20, "max_renewals": 2, "fine_per_day": 20,
                "fine_cap": 1000}),
    ("*", "dvd", {"loan_days": 7, "max_items": 5, "max_renewals": 1, "fine_per_day": 100,
                  "fine_cap": 2000}),
    ("*", "magazine", {"loan_days": 14, "max_items": 10, "max_renewals": 1, "hold_allowed": 0}),
    ("child", "*", {"loan_days": 21, "max_items": 10, "fine_per_day": 10, "fine_cap": 500}),
    ("child", "dvd", {"may_borrow": 0}),
    ("staff", "*", {"loan_days": 60, "max_items": 50, "max_renewals": 5, "fine_per_day": 0}),
]
HOLIDAYS = [(1, 1, "New Year"), (1, 2, "New Year"), (2, 8, "Prešeren Day"),
            (4, 27, "Resistance Day"), (5, 1, "Labour Day"), (5, 2, "Labour Day"),
            (6, 25, "Statehood Day"), (8, 15, "Assumption"), (10, 31, "Reformation Day"),
            (11, 1, "Remembrance Day"), (12, 25, "Christmas"), (12, 26, "Independence Day")]
WEEKDAY_HOURS = {d: ("08:00", "20:00") for d in range(5)} | {5: ("08:00", "13:00")}


def install(s: Store, years: range) -> None:
    """Categories, the rule matrix and library-wide holidays for `years`."""
    with s.atomic():
        for code, name, extra in PATRON_CATEGORIES:
            catalogue.add_patron_category(s, code, name, **extra)
        for code, name, ref_only in ITEM_CATEGORIES:
            catalogue.add_item_category(s, code, name, ref_only)
        for pc, ic, fields in RULES:
            catalogue.set_rule(s, pc, ic, **fields)
        for year in years:
            branches.set_closed_days(s, year, {date(year, m, d): why for m, d, why in HOLIDAYS})


def add_branch(s: Store, id: str, name: str, tz: str = "Europe/Ljubljana") -> None:
    """A branch open Monday to Saturday morning."""
    with s.atomic():
        branches.add_branch(s, id, name, tz, address=f"{name} 1", phone="+386 1 000 00 00",
                            email=f"{id}@library.example", post_office="1000 Ljubljana",
                            signatory="Head of branch")
        branches.set_hours(s, id, WEEKDAY_HOURS)
