"""A person's age in whole years, as forms, door lists and rules reckon it."""

from datetime import date


def age_on(born: date, day: date) -> int:
    """Whole years between `born` and `day`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
