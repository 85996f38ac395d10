"""Every text of the staff pages exists in every language, with the same placeholders, every
refusal the pages can give is explained in each, and every code they show has a name in each."""

import ast
import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from central import access_stats
from central.access_counts import EXIT_BUTTON
from central.circulation import branches
from central.web import words
from central.web.errors import EXPLAINED
from central.web.render import LOCALE_DIR
from central.web.staff.now import DOOR_COMMANDS
from edge_common.catalogues import LANGUAGES
from edge_common.protocol import refusals

ROOT = Path(__file__).parent.parent
OTHER_LANGUAGES = sorted(set(LANGUAGES) - {"en"})
CODE = re.compile(r'code="([a-z][a-z0-9_]*)"')
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")

# The refusals the routes meet from outside central/web, by the module that says them (the
# test below finds each there). Add a code here when a route starts calling what raises it.
RAISED_FOR_THE_PAGES = {
    # Store.branch, for ?branch= and the "who is it" form
    "central/circulation/store.py": {"branch_unknown"},
    # staff (behind every session) and require_role / working_at
    "central/circulation/branches.py": {"staff_unknown", "branch_not_assigned",
                                        "role_required"},
    # sign_in, shown on the sign-in page
    "central/circulation/signin.py": {"login_failed", "login_throttled"},
    # issue: the door commands and the alarms' clear
    "central/commands.py": {"device_unknown", "device_has_no_key", "command_unknown",
                            "command_invalid"},
    # by_card_hash and patron: "who is it"
    "central/circulation/patrons.py": {"card_unknown", "patron_unknown"},
    # NotFound, Forbidden and Refused raised without a code of their own
    "central/circulation/errors.py": {"not_found", "forbidden", "refused"},
    # HandlerError raised without a code of its own
    "central/handlers.py": {"refused"},
    # Starlette's own refusals, as http_error names them
    "central/web/app.py": {"no_such_page", "method_not_allowed", "bad_request"},
}


def _texts() -> set[str]:
    """What the extractor finds in the pages and the modules whose words they show."""
    method_map = [("central/web/templates/**.html", "jinja2"), ("central/web/**.py", "python"),
                  ("central/access_stats.py", "python"), ("central/fleet.py", "python")]
    found = extract_from_dir(str(ROOT), method_map, keywords={"_": None, "N_": None},
                             comment_tags=())
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


def _translated(lang: str) -> dict[str, str]:
    """The web catalogue of `lang` as source text to translation."""
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "web.po").open("rb") as fh:
        cat = read_po(fh)
    return {m.id: m.string for m in cat if isinstance(m.id, str) and m.id}


def _refusal_codes() -> set[str]:
    """Every code the pages can refuse with, from the sources (never from EXPLAINED)."""
    web = {c for p in (ROOT / "central/web").rglob("*.py") for c in CODE.findall(p.read_text())}
    return web | refusals.WEB | set().union(*RAISED_FOR_THE_PAGES.values())


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_every_page_text_is_translated(lang):
    translated = _translated(lang)
    texts = _texts()
    assert len(texts) > 90
    missing = {t for t in texts if not translated.get(t)}
    assert missing == set(), missing
    changed = {t for t in texts
               if sorted(PLACEHOLDER.findall(t)) != sorted(PLACEHOLDER.findall(translated[t]))}
    assert changed == set(), changed


def test_the_listed_codes_are_said_where_the_list_says():
    for path, codes in RAISED_FOR_THE_PAGES.items():
        source = (ROOT / path).read_text()
        assert {c for c in codes if f'"{c}"' not in source} == set(), path


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_every_refusal_the_pages_give_is_explained_in_every_language(lang):
    codes = _refusal_codes()
    assert len(codes) >= 30
    assert codes - EXPLAINED.keys() == set()
    translated = _translated(lang)
    untranslated = {c for c in codes if not translated.get(EXPLAINED[c])}
    assert untranslated == set(), untranslated


def _alarms_raised() -> set[str]:
    """lockd's `_alarm(door, "code", …)` calls and door-state alarms, and every device's own."""
    tree = ast.parse((ROOT / "lockd/daemon.py").read_text())
    raised = {n.args[1].value for n in ast.walk(tree) if isinstance(n, ast.Call)
              and isinstance(n.func, ast.Attribute) and n.func.attr == "_alarm"
              and isinstance(n.args[1], ast.Constant)}
    state = next(n.value for n in tree.body if isinstance(n, ast.Assign)
                 and getattr(n.targets[0], "id", "") == "_STATE_ALARMS")
    status = ast.parse((ROOT / "edge_common/status.py").read_text())
    alarms = next(n for n in ast.walk(status) if isinstance(n, ast.FunctionDef)
                  and n.name == "alarms")
    own = {ast.literal_eval(n) for s in ast.walk(alarms) if isinstance(s, ast.Set) for n in s.elts}
    return raised | ast.literal_eval(state) | own


def _shown_codes() -> dict[str, set[str]]:
    """The codes the pages show, by kind, from the sources that make them (never from words)."""
    day = date(2026, 1, 1)
    period = access_stats.figures([], [], day, day)
    now_source = (ROOT / "central/web/staff/now.py").read_text()    # its ?done= after alarms
    return {"decision": set(refusals.Door) | {EXIT_BUTTON},
            "alarm": _alarms_raised(),
            "measure": {m for m, *_ in access_stats.compare(period, period)},
            "action": set(DOOR_COMMANDS) | set(re.findall(r'"(alarm\.\w+)"', now_source)),
            "role": set(branches.ROLES)}


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_every_code_the_pages_show_has_a_name_in_every_language(lang):
    shown = _shown_codes()
    assert {k: len(c) for k, c in shown.items()} == {"decision": 14, "alarm": 7, "measure": 5,
                                                      "action": 6, "role": 5}
    assert {k: c - words.NAMES[k].keys() for k, c in shown.items()} == dict.fromkeys(shown, set())
    translated = _translated(lang)
    untranslated = {n for names in words.NAMES.values() for n in names.values()
                    if not translated.get(n)}
    assert untranslated == set(), untranslated
