"""How staff type a name on any keyboard: without diacritics and case ("Zupančič" = "zupancic")."""

import unicodedata

# letters with a stroke or ligature that Unicode does not decompose into a base letter
_PLAIN = str.maketrans({"đ": "d", "ł": "l", "ø": "o", "ħ": "h", "ı": "i", "œ": "oe", "æ": "ae",
                        "þ": "th", "ð": "d", "ŧ": "t"})


def fold(text: str | None) -> str | None:
    """`text` in lower case with its diacritics taken off (None stays None)."""
    if text is None:
        return None
    bare = "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                   if not unicodedata.combining(c))
    return bare.translate(_PLAIN)
