"""The texts the shared widgets show, in English; catalogues in patron_ui/locale translate them."""

import gettext
from pathlib import Path

from edge_common.catalogues import LANGUAGES, N_, translations

LOCALE_DIR = Path(__file__).parent / "locale"
TEXTS = {
    "choose_all": N_("Choose all"),
    "page": N_("Page {page} of {pages}"),
    "previous": N_("Back"),
    "next": N_("More"),
    "stay": N_("You will be logged out in {seconds} s. Touch the screen to stay."),
    "tap_card_here": N_("Tap your card on the reader"),
    "scan_here": N_("Hold the barcode under the scanner"),
    "large_text": N_("Large text"),
    "high_contrast": N_("High contrast"),
    "nothing_here": N_("Nothing here"),
}


def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of the shared texts in `lang`."""
    return translations(LOCALE_DIR, "patron_ui", lang)


def texts(lang: str) -> dict[str, str]:
    """Every shared text in `lang` (English for an unknown language), placeholders unfilled."""
    tr = catalogue(lang if lang in LANGUAGES else "en").gettext
    return {key: tr(text) for key, text in TEXTS.items()}
