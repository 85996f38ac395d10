"""Gettext catalogues compiled from their .po files when first used (Babel), and the languages
libedge speaks to patrons."""

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = {"en": "English", "sl": "Slovenščina", "cs": "Čeština", "hu": "Magyar", "zh": "中文"}
BABEL_LOCALES = {"en": "en_GB", "sl": "sl_SI", "cs": "cs_CZ", "hu": "hu_HU", "zh": "zh_Hans_CN"}


def N_(text: str) -> str:
    """Mark a text for translation (extracted by `pybabel extract`); translated where shown."""
    return text


@cache
def translations(locale_dir: Path, domain: str, lang: str) -> gettext.NullTranslations:
    """The catalogue of `domain` in `lang` (English is the source and needs none)."""
    po = locale_dir / lang / "LC_MESSAGES" / f"{domain}.po"
    if lang == "en" or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        cat = read_po(fh, locale=lang, domain=domain)
    buf = io.BytesIO()
    write_mo(buf, cat)
    buf.seek(0)
    return gettext.GNUTranslations(buf)
