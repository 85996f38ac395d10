"""Translated signing-pad texts from the gettext catalogues in signpad/locale."""

import gettext
import logging
from pathlib import Path

from edge_common.catalogues import LANGUAGES, translations
from signpad.texts import FALLBACK, LABELS, NOTICES

log = logging.getLogger(__name__)
LOCALE_DIR = Path(__file__).parent / "locale"


def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled signing-pad catalogue of a language."""
    return translations(LOCALE_DIR, "signpad", lang)


class Texts:
    """The pad's texts in one language (English for an unknown one)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else "en"
        self._gettext = catalogue(self.lang).gettext

    def label(self, key: str, **params: object) -> str:
        """A label by key, its placeholders filled."""
        text = self._gettext(LABELS[key])
        return text.format(**params) if params else text

    def notice(self, code: str) -> str:
        """The patron-facing words for a stable code; an unknown code gets a safe fallback."""
        text = NOTICES.get(code)
        if text is None:
            log.warning("no signpad text for code %s", code)
            text = FALLBACK
        return self._gettext(text)

    def labels(self) -> dict[str, str]:
        """Every label without placeholders filled (for the Kivy rules)."""
        return {key: self._gettext(text) for key, text in LABELS.items()}
