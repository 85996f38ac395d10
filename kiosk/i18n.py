"""Translated kiosk texts, money and dates, from the gettext catalogues in kiosk/locale."""

import gettext
import logging
from datetime import date, datetime, timedelta
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_currency

from edge_common.catalogues import BABEL_LOCALES, LANGUAGES, translations
from kiosk.texts import FALLBACK, LABELS, NOTICES, SAME_AS

log = logging.getLogger(__name__)
LOCALE_DIR = Path(__file__).parent / "locale"


def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled kiosk catalogue of a language."""
    return translations(LOCALE_DIR, "kiosk", lang)


class Translator:
    """Texts, amounts and dates for one UI language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else "en"
        self.locale = Locale.parse(BABEL_LOCALES[self.lang])
        self._gettext = catalogue(self.lang).gettext

    def label(self, key: str, **params: object) -> str:
        """A UI label by key."""
        return self._format(LABELS[key], params)

    def notice(self, code: str, **params: object) -> str:
        """The patron-facing message for a stable code; unknown codes get a safe fallback."""
        text = NOTICES.get(SAME_AS.get(code, code))
        if text is None:
            log.warning("no kiosk text for code %s", code)
            text = FALLBACK
        return self._format(text, params)

    def money(self, minor: int, currency: str = "EUR") -> str:
        """An amount in minor units, formatted for the language."""
        return format_currency(minor / 100, currency, locale=self.locale)

    def day(self, value: date) -> str:
        """A date the way the language writes it."""
        return format_date(value, format="medium", locale=self.locale)

    def moment(self, value: datetime) -> str:
        """A date and time (as given, local) the way the language writes it."""
        return format_datetime(value, format="short", locale=self.locale)

    def ago(self, value: timedelta) -> str:
        """How long ago, in words: "5 minutes ago", "pred 5 minutami"."""
        return format_timedelta(-value, add_direction=True, locale=self.locale)

    def _format(self, text: str, params: dict) -> str:
        """Fill placeholders: dates, times, time spans ago, `amount` (minor units) as money."""
        currency = params.get("currency", "EUR")
        shown = {k: self._shown(k, v, currency) for k, v in params.items()}
        try:
            return self._gettext(text).format(**shown)
        except (KeyError, IndexError, ValueError):
            log.warning("bad parameters for text %r", text)
            return self._gettext(text)

    def _shown(self, key: str, value: object, currency: str) -> object:
        if isinstance(value, datetime):
            return self.moment(value)
        if isinstance(value, date):
            return self.day(value)
        if isinstance(value, timedelta):
            return self.ago(value)
        return self.money(value, currency) if key == "amount" and isinstance(value, int) else value
