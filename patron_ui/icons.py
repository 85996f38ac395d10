"""Pictograms from the Material Design Icons font (Debian fonts-materialdesignicons-webfont).

The font's own name → code point table ships beside it (SCSS); names are looked up there,
never hard-coded as code points.
"""

import re
from functools import cache
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/materialdesignicons-webfont/"
            "materialdesignicons-webfont.ttf")
TABLE = Path("/usr/share/fonts-materialdesignicons-webfont/scss/_variables.scss")
_ENTRY = re.compile(r'^\s*"([a-z0-9-]+)":\s*([0-9A-Fa-f]{4,6}),?\s*$', re.MULTILINE)


@cache
def table() -> dict[str, str]:
    """Every icon name the installed font has, with its character ({} without the font)."""
    try:
        text = TABLE.read_text(encoding="utf-8")
    except OSError:
        return {}
    return {name: chr(int(code, 16)) for name, code in _ENTRY.findall(text)}


def glyph(name: str) -> str:
    """The character of icon `name`; empty when the font or the name is missing (text stays)."""
    return table().get(name, "")


def available() -> bool:
    """Whether the icon font and its table are installed."""
    return FONT.exists() and bool(table())
