"""The shared patron-screen theme: contrast, pictograms, texts, the fit check and paged lists."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edge_common.catalogues import LANGUAGES
from patron_ui import icons, rows
from patron_ui.palette import HIGH_CONTRAST, NORMAL, PAIRS, Palette, contrast, shortfalls
from patron_ui.texts import LOCALE_DIR, TEXTS, texts
from tests.patron_screens import untranslated


@pytest.mark.parametrize("palette", [NORMAL, HIGH_CONTRAST], ids=["normal", "high-contrast"])
def test_every_colour_pair_the_screens_use_passes_wcag_aa(palette):
    assert shortfalls(palette) == []
    colours = palette.as_dict()
    assert all(contrast(colours[fg], colours[bg]) >= need for fg, bg, need in PAIRS)


def test_the_contrast_ratio_is_wcags():
    assert round(contrast((0, 0, 0, 1), (1, 1, 1, 1)), 2) == 21.0
    assert round(contrast((0.5, 0.5, 0.5, 1), (1, 1, 1, 1)), 2) == 3.98  # #808080 on white
    grey = NORMAL.__dict__ | {"muted": (0.6, 0.6, 0.6, 1)}
    assert shortfalls(Palette(**grey)) == ["muted on page: 2.49 < 4.5",
                                           "muted on surface: 2.85 < 4.5"]


def kv_sources() -> str:
    return "".join(p.read_text() for pattern in ("*/*.kv", "*/*/*.kv")
                   for p in Path(".").glob(pattern))


@pytest.mark.parametrize("kv", ["kiosk/screens.kv", "signpad/screens.kv",
                                "returnbox/display/screens.kv"])
def test_every_app_shows_its_screens_as_frames_in_the_shared_chrome(kv):
    """One pattern: the header, banner, notice and countdown are theme.kv's, never an app's."""
    text = Path(kv).read_text()
    assert re.findall(r"^(\w+):$", text, re.MULTILINE) == ["Chrome"]  # the window's root
    [screens] = re.findall(r"^<\w+@ScreenManager>:\n((?:    .*\n)+)", text, re.MULTILINE)
    assert set(re.findall(r"^    (\w+):$", screens, re.MULTILINE)) == {"Frame"}


def test_every_pictogram_the_screens_name_is_in_the_icon_font():
    from typing import get_args

    from kiosk.session import Screen
    from returnbox.views import Screen as BoxScreen
    from signpad.flow import Screen as PadScreen

    lines = re.findall(r"^\s*(?:name|icon): (.+)$", kv_sources(), re.MULTILINE)
    named = {n for line in lines for n in re.findall(r"(?<!== )'([a-z-]+)'", line)} - set(
        Screen) - set(get_args(BoxScreen)) - set(PadScreen)
    assert len(named) > 25
    assert icons.available()
    assert {n for n in named if not icons.glyph(n)} == set()


def test_a_missing_icon_name_leaves_no_tofu():
    assert icons.glyph("no-such-icon") == ""


def test_every_colour_and_size_the_screens_name_exists():
    used = set(re.findall(r"app\.c\['([a-z_]+)'\]", kv_sources()))
    assert used and used <= set(NORMAL.as_dict())
    from patron_ui.scale import NORMAL as SIZES
    sizes = set(re.findall(r"app\.s\['([a-z_]+)'\]", kv_sources()))
    assert sizes and sizes <= set(SIZES.as_dict())


@pytest.mark.parametrize("lang", sorted(set(LANGUAGES) - {"en"}))
def test_shared_texts_are_translated_with_the_same_placeholders(lang):
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "patron_ui.po"
    assert untranslated(po, set(TEXTS.values()) | set(rows.LABELS.values())) == []
    assert texts(lang)["choose_all"] != TEXTS["choose_all"]


def test_an_unknown_language_gets_english():
    assert texts("xx") == TEXTS


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    env = os.environ | {"SDL_VIDEODRIVER": "offscreen",
                        "KIVY_HOME": str(tmp_path_factory.mktemp("kivy"))}
    run = subprocess.run([sys.executable, "-m", "tests.patron_ui_probe"], capture_output=True,
                         text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_fit_check_finds_a_cut_label_but_not_data_nor_hidden_ones(probe):
    [cut] = probe["overflows"]
    assert cut.startswith("'A sentence far too long") and "px high" in cut


def test_drawn_labels_keep_their_texture_but_not_the_surface_it_was_rendered_on(probe):
    assert probe["drawn_labels"] > 5 and probe["kept_surfaces"] == 0


def test_a_long_list_is_paged_with_all_chosen_across_pages(probe):
    per = len(probe["page1"])
    assert 1 < per < 20 and probe["pages"] == -(-20 // per)
    assert probe["page1"] == [f"r{i}" for i in range(per)]
    assert probe["page2"] == [f"r{i}" for i in range(per, min(20, 2 * per))]
    evens = sorted(f"r{i}" for i in range(0, 20, 2))
    assert probe["chosen"] == evens  # "choose all" takes every choosable row, on every page
    assert probe["ticked"] == sorted(i for i in evens if i in probe["page2"])


def test_a_shorter_list_goes_back_to_one_page_keeping_what_is_still_there(probe):
    assert probe["after_shrink"] == {"pages": 1, "page": 0, "chosen": ["r0", "r2"],
                                     "shown": ["r0", "r1", "r2"]}


def test_a_list_taken_out_of_the_window_is_freed(probe):
    """Nothing long-lived (the app, the window) holds a list: a screen made and dropped again
    takes its lists and their rows with it (the app's sizes reach a list by a kv binding)."""
    assert probe["list_freed"]
