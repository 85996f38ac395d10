"""Translated signing-pad texts, dates and amounts, from the gettext catalogues in
signpad/locale (the patron's language on the screen and in the signed form's PDF)."""

from pathlib import Path

from patron_ui import translator
from signpad.texts import FALLBACK, LABELS, NOTICES

LOCALE_DIR = Path(__file__).parent / "locale"
TEXTS = translator.Texts(LOCALE_DIR, "signpad", LABELS, NOTICES, FALLBACK)


class Texts(translator.Translator):
    """The pad's texts in one language (English for an unknown one)."""

    texts = TEXTS

    def labels(self) -> dict[str, str]:
        """Every label, placeholders unfilled (for the Kivy rules)."""
        return {key: self._gettext(text) for key, text in LABELS.items()}
