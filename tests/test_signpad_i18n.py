"""Every signing-pad text exists in every language, with the same placeholders."""

import pytest

from edge_common.catalogues import LANGUAGES
from signpad.i18n import LOCALE_DIR, Texts
from signpad.texts import LABELS, NOTICES
from tests.patron_screens import untranslated

TEXTS = set(NOTICES.values()) | set(LABELS.values())


@pytest.mark.parametrize("lang", sorted(set(LANGUAGES) - {"en"}))
def test_catalogue_is_complete_and_placeholders_match(lang):
    assert untranslated(LOCALE_DIR / lang / "LC_MESSAGES" / "signpad.po", TEXTS) == []
    assert Texts(lang).label("thanks") != LABELS["thanks"]


def test_translations_are_used_and_unknown_codes_get_a_safe_text():
    assert Texts("sl").label("registration") == "Vpisnica"
    assert Texts("zh").label("terms_version", version="2026-1") == "版本 2026-1"
    assert Texts("hu").notice("no_such_code") == Texts("hu").notice("internal_error")
    assert Texts("xx").lang == "en"


def test_every_code_the_flow_can_show_has_a_text():
    import re
    from pathlib import Path

    source = Path("signpad/flow.py").read_text()
    codes = set(re.findall(r'(?:notice = |code=)"([a-z_]+)"', source))
    assert {"sign_first", "form_busy", "offline", "pin_protected"} <= codes
    assert codes - set(NOTICES) == set()
