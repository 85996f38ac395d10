"""The edges of what staff may type: text of a bounded length without control, NUL or
direction-override characters, integers the store can hold and sum, e-mail addresses,
languages, currencies and years (issue 23 §7)."""

import re

from central.circulation.errors import Refused
from edge_common.catalogues import LANGUAGES
from edge_common.envelope import MAX_INT
from edge_common.protocol.fields import MAX_AMOUNT

MAX_TEXT = 500          # a name, a title, a note: longer than any real one
MAX_KEY = 64            # an id, a code, a barcode, a card number (the wire's Identifier)
MAX_PATH = 4096
YEARS = range(1900, 2201)   # a calendar year anyone plans for
# What no typed text holds: control characters (NUL among them) but line breaks and tabs,
# lone surrogates, and the characters that reorder or hide what staff and patrons read
# (bidirectional embeddings, overrides, isolates and marks). One line holds no breaks either.
CONTROL = ("\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f"
           "\u202a-\u202e\u2066-\u2069")
BREAKS = "\t\n\r"
PLAIN = f"^[^{CONTROL}{BREAKS}]*$"      # a msgspec pattern for one line without them
EMAIL = r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$"
CURRENCY = r"^[A-Z]{3}$"
_control = re.compile(f"[{CONTROL}]")
_breaks = re.compile(f"[{BREAKS}]")


def text_fault(value: str, longest: int = MAX_TEXT, *, lines: bool = True) -> str | None:
    """Why `value` is no acceptable text (`too_long`, `bad_characters`, `blank`), or None;
    `lines`: it may hold line breaks and tabs."""
    if len(value) > longest:
        return "too_long"
    if _control.search(value) or (not lines and _breaks.search(value)):
        return "bad_characters"
    if value and not value.strip():
        return "blank"
    return None


def check_text(name: str, value: str, longest: int = MAX_TEXT, *, blank: bool = False,
               lines: bool = True) -> str:
    """`value` when it is acceptable text (`blank`: spaces only too; `lines`: line breaks
    too), else Refused with the fault's code."""
    fault = text_fault(value, longest, lines=lines)
    if fault == "too_long":
        raise Refused(f"{name} is longer than {longest} characters", code=fault)
    if fault == "bad_characters":
        raise Refused(f"{name} holds a control or direction character", code=fault)
    if fault == "blank" and not blank:
        raise Refused(f"{name} is only spaces", code=fault)
    return value


def check_int(name: str, value: int, lowest: int = -MAX_INT, highest: int = MAX_INT) -> int:
    """`value` when it lies in [lowest, highest], else Refused('out_of_range')."""
    if not lowest <= value <= highest:
        raise Refused(f"{name} must be from {lowest} to {highest}", code="out_of_range")
    return value


def check_amount(amount: object) -> int:
    """A money amount: a whole number of minor units from 1 to MAX_AMOUNT, or bad_amount."""
    if type(amount) is not int or amount <= 0:
        raise Refused("an amount is a positive whole number of minor units", code="bad_amount")
    if amount > MAX_AMOUNT:
        raise Refused(f"an amount is at most {MAX_AMOUNT} minor units", code="bad_amount")
    return amount


def check_email(name: str, value: str) -> str:
    """`value` when it looks like an e-mail address, else Refused('bad_email')."""
    check_text(name, value, 254, lines=False)
    if not re.match(EMAIL, value):
        raise Refused(f"{name} is not an e-mail address", code="bad_email")
    return value


def check_language(value: str) -> str:
    """`value` when it is a language the library speaks, else Refused('bad_language')."""
    if value not in LANGUAGES:
        raise Refused(f"the language is one of {', '.join(LANGUAGES)}", code="bad_language")
    return value


def check_currency(value: str) -> str:
    """`value` when it is a currency code (three capitals, EUR), else Refused('bad_currency')."""
    if not re.match(CURRENCY, value):
        raise Refused("a currency is three capital letters, e.g. EUR", code="bad_currency")
    return value


def check_year(year: int) -> int:
    """`year` when it lies in YEARS, else Refused('bad_year')."""
    if year not in YEARS:
        raise Refused(f"a year is from {YEARS.start} to {YEARS.stop - 1}", code="bad_year")
    return year
