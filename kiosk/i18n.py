"""Translated kiosk texts, money and dates, from the gettext catalogues in kiosk/locale."""

from pathlib import Path

from edge_common.catalogues import LANGUAGES
from kiosk.texts import FALLBACK, LABELS, NOTICES, SAME_AS
from patron_ui import translator

__all__ = ["LANGUAGES", "LOCALE_DIR", "Translator"]
LOCALE_DIR = Path(__file__).parent / "locale"
TEXTS = translator.Texts(LOCALE_DIR, "kiosk", LABELS, NOTICES, FALLBACK, SAME_AS)


class Translator(translator.Translator):
    """Kiosk texts, amounts and dates for one UI language."""

    texts = TEXTS
