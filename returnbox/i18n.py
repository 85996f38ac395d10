"""Translated return-box texts, money and dates, from the gettext catalogues in
returnbox/locale (the patron's language on the screen and on the receipt)."""

from pathlib import Path

from patron_ui import translator
from returnbox.texts import ALARMS, FALLBACK, LABELS, NOTICES, SAME_AS

LOCALE_DIR = Path(__file__).parent / "locale"
TEXTS = translator.Texts(LOCALE_DIR, "returnbox", LABELS | {f"alarm_{k}": v for k, v in
                                                            ALARMS.items()}, NOTICES, FALLBACK,
                         SAME_AS)


class Translator(translator.Translator):
    """Return-box texts, amounts and dates for one language."""

    texts = TEXTS

    def alarm(self, code: str) -> str:
        """The staff name of an alarm code, or of `part:code` with its part kept (the code itself
        when it has none)."""
        part, _, bare = code.rpartition(":")
        name = self.label(f"alarm_{bare}") if bare in ALARMS else bare
        return f"{part}: {name}" if part else name
