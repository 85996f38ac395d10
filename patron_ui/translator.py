"""Translated texts, money and dates for one patron language, from a device's gettext catalogue
(each device names its catalogue and its texts; see kiosk.i18n and returnbox.i18n)."""

import gettext
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_currency

from edge_common.catalogues import BABEL_LOCALES, LANGUAGES, translations

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Texts:
    """A device's patron texts: its catalogue, its labels by key and its notices by code."""

    locale_dir: Path
    domain: str
    labels: Mapping[str, str]
    notices: Mapping[str, str]
    fallback: str  # the notice of a code that has no text of its own
    same_as: Mapping[str, str] = field(default_factory=dict)  # code → code with the same text

    def catalogue(self, lang: str) -> gettext.NullTranslations:
        """The compiled catalogue in `lang`."""
        return translations(self.locale_dir, self.domain, lang)


class Translator:
    """Texts, amounts and dates for one UI language; a device's subclass names its `texts`."""

    texts: ClassVar[Texts]

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else "en"
        self.locale = Locale.parse(BABEL_LOCALES[self.lang])
        self._gettext = self.texts.catalogue(self.lang).gettext

    def label(self, key: str, **params: object) -> str:
        """A UI label by key."""
        return self._format(self.texts.labels[key], params)

    def notice(self, code: str, **params: object) -> str:
        """The patron-facing message for a stable code; unknown codes get a safe fallback."""
        text = self.texts.notices.get(self.texts.same_as.get(code, code))
        if text is None:
            log.warning("no %s text for code %s", self.texts.domain, code)
            text = self.texts.fallback
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
