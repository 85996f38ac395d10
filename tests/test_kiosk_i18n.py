"""Every kiosk text exists in every language, with the same placeholders."""

import re
from datetime import date

import pytest

from kiosk.i18n import LANGUAGES, LOCALE_DIR, Translator
from kiosk.texts import FALLBACK, LABELS, NOTICES
from tests.patron_screens import untranslated

TEXTS = set(NOTICES.values()) | set(LABELS.values()) | {FALLBACK}


@pytest.mark.parametrize("lang", sorted(set(LANGUAGES) - {"en"}))
def test_catalogue_is_complete_and_placeholders_match(lang):
    assert untranslated(LOCALE_DIR / lang / "LC_MESSAGES" / "kiosk.po", TEXTS) == []


def test_translations_are_used():
    assert Translator("sl").label("logout") == "Odjava"
    assert Translator("zh").notice("pin_wrong", left=2) == "密码错误。剩余尝试次数：2。"
    assert Translator("en").notice("pin_wrong", left=2) == "Wrong PIN. Attempts left: 2."


def test_money_and_dates_follow_the_language():
    assert re.sub(r"\s", " ", Translator("sl").money(1250)) == "12,50 €"
    assert Translator("en").money(1250) == "€12.50"
    assert "2026" in Translator("hu").day(date(2026, 12, 1))
    assert Translator("en").notice("checkout_ok", title="X", due=date(2026, 12, 1)) == (
        "X: due 1 Dec 2026.")


def test_unknown_code_and_bad_parameters_never_fail(caplog):
    assert Translator("cs").notice("no_such_code") == "Obraťte se prosím na pult."
    assert Translator("cs").notice("pin_wrong") == "Chybný PIN. Zbývající pokusy: {left}."
    assert Translator("xx").lang == "en"


def test_every_code_the_session_can_show_has_a_text():
    from pathlib import Path

    source = Path("kiosk/session.py").read_text()
    codes = set(re.findall(r'Notice\("([a-z_]+)"', source))
    codes |= {f"payment_{o}" for o in ("declined", "cancelled", "terminal_error")}
    codes |= {f"receipt_{how}" for how in ("print", "email")}
    assert codes - set(NOTICES) == set()


def test_amount_parameters_are_money():
    assert Translator("en").notice("follow_terminal", amount=390) == (
        "Please pay €3.90 on the card terminal.")


def test_every_code_central_gives_a_borrowing_patron_has_its_own_text():
    import inspect
    from pathlib import Path

    from central.circulation import holds, loans
    from kiosk.texts import SAME_AS

    src = Path(loans.__file__).read_text() + inspect.getsource(holds.patron_refusals)
    codes = (set(re.findall(r'code="([a-z_]+)"', src))
             | set(re.findall(r'(?:warnings|reasons)\.append\("([a-z_]+)"', src))
             | set(re.findall(r'_switch\([^)]*"([a-z_]+)"', src)))
    staff_only = {"not_on_loan", "returned_by_other", "loan_unknown", "bad_days",
                  "staff_required"}
    assert len(codes) > 15
    missing = {c for c in codes - staff_only if SAME_AS.get(c, c) not in NOTICES}
    assert not missing
