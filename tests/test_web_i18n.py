"""Every text of the staff pages exists in every language, with the same placeholders."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from central.web.render import LOCALE_DIR
from edge_common.catalogues import LANGUAGES

ROOT = Path(__file__).parent.parent


def _texts() -> set[str]:
    """What the extractor finds in the pages and the modules whose words they show."""
    method_map = [("central/web/templates/**.html", "jinja2"), ("central/web/**.py", "python"),
                  ("central/access_stats.py", "python"), ("central/fleet.py", "python")]
    found = extract_from_dir(str(ROOT), method_map, keywords={"_": None, "N_": None},
                             comment_tags=())
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


@pytest.mark.parametrize("lang", sorted(set(LANGUAGES) - {"en"}))
def test_every_page_text_is_translated(lang):
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "web.po").open("rb") as fh:
        cat = read_po(fh)
    translated = {m.id: m.string for m in cat if m.id}
    texts = _texts()
    assert len(texts) > 90
    missing = {t for t in texts if not translated.get(t)}
    assert missing == set(), missing
