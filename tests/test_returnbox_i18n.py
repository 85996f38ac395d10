"""Every return-box text exists in every language with the same placeholders; unknown codes
and languages never fail."""

import pytest

from edge_common.catalogues import LANGUAGES
from returnbox.i18n import LOCALE_DIR, Translator
from returnbox.texts import ALARMS, FALLBACK, LABELS, NOTICES, SAME_AS
from tests.patron_screens import untranslated

TEXTS = set(NOTICES.values()) | set(LABELS.values()) | set(ALARMS.values()) | {FALLBACK}


@pytest.mark.parametrize("lang", sorted(set(LANGUAGES) - {"en"}))
def test_catalogue_is_complete_and_placeholders_match(lang):
    assert untranslated(LOCALE_DIR / lang / "LC_MESSAGES" / "returnbox.po", TEXTS) == []
    assert Translator(lang).label("take_back") != LABELS["take_back"]


def test_every_alias_names_a_code_with_a_text():
    assert set(SAME_AS.values()) <= set(NOTICES)


def test_unknown_codes_languages_and_parameters_never_fail(caplog):
    assert Translator("sl").notice("no_such_code") == "Obrnite se na knjižničarja."
    assert "no returnbox text for code no_such_code" in caplog.text
    assert Translator("hu").label("code") == "Kód: {code}"  # a missing parameter: unfilled
    assert Translator("xx").lang == "en"
    assert Translator("cs").alarm("jam") == "Dokument zaseknutý na pásu"
    assert Translator("cs").alarm("belt_motor") == "belt_motor"  # staff see the code itself
    assert Translator("cs").alarm("bin:H:bin_full") == "bin:H: Box plný"  # the part is kept


def test_codes_central_refuses_a_return_with_have_their_own_text():
    import inspect
    import re
    from pathlib import Path

    from central.circulation import catalogue, loans

    src = Path(loans.__file__).read_text()
    checkin = src[src.index("def checkin"):src.index("def renewal_refusal")]
    codes = set(re.findall(r'code="([a-z_]+)"', checkin))
    codes |= set(re.findall(r'code="([a-z_]+)"', inspect.getsource(catalogue.resolve)))
    assert {"not_on_loan", "item_other_branch", "item_unknown", "item_ambiguous"} <= codes
    assert {SAME_AS.get(c, c) for c in codes} <= set(NOTICES)
