"""The terms on the pad: cut into paragraphs and chunks at sentence ends, drawn only where
they show, so terms of any length at the largest zoom scroll to their last line uncut."""

import itertools
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from signpad.terms import LIMIT, Piece, pieces


def test_each_line_is_a_paragraph_and_a_long_one_is_cut_at_sentence_ends():
    text = "First line.\n\n" + " ".join(f"Sentence {i} is here." for i in range(40)) + "\n"
    got = pieces(text, limit=100)
    assert got[0] == Piece("First line.", True)
    rest = got[1:]
    assert [p.opens for p in rest] == [True] + [False] * (len(rest) - 1)
    assert all(len(p.text) <= 100 and p.text.endswith(".") for p in rest)
    assert " ".join(p.text for p in rest) == text.split("\n")[2]  # nothing lost or doubled


def test_text_without_sentence_ends_or_spaces_is_still_cut_to_the_limit():
    chinese = "条款" * 300 + "。结束"  # the short last sentence joins the last chunk
    assert [len(p.text) for p in pieces(chinese)] == [LIMIT, LIMIT, 600 - 2 * LIMIT + 3]
    words = " ".join(["word"] * 200)
    assert all(len(p.text) <= LIMIT for p in pieces(words))
    assert " ".join(p.text for p in pieces(words)) == words
    assert pieces("3. Article three. Then more.", limit=20)[0].text == "3. Article three."


@pytest.fixture(scope="module")
def long_terms(tmp_path_factory):
    folder = tmp_path_factory.mktemp("terms")
    env = os.environ | {"SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(folder / ".kivy")}
    run = subprocess.run([sys.executable, "-m", "tests.signpad_terms_probe",
                          str(folder / "end.png")], capture_output=True, text=True,
                         timeout=300, env=env)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1]), folder / "end.png"


def test_terms_of_2000_lines_at_the_largest_zoom_scroll_to_the_last_paragraph_drawn_whole(
        long_terms):
    got, png = long_terms
    assert got["lines"] == 2000 and got["size_sp"] == got["largest"]
    # far taller than one GL texture may be: one label would have been cut
    assert got["content_height"] > 3 * got["texture_limit"]
    assert got["scroll_y"] == 0 and got["drawn"] == [got["last_text"]]
    assert got["texture_height"] == got["label_height"] >= got["natural_height"]
    x, y, w, h = got["box"]
    vx, vy, vw, vh = got["view"]
    assert vx <= x and vy <= y and y + h <= vy + vh  # inside the view, not cut by it
    # the pieces in sight each as high as their text, none drawn over another
    for (y1, h1, t1), (y2, _, _) in itertools.pairwise(got["shown"]):
        assert h1 == t1 and y1 + h1 <= y2
    image = Image.open(png).convert("L")
    top = image.height - (y + h)  # PNG rows count from the top
    ink = image.crop((round(x), round(top), round(x + w), round(top + h)))
    assert ink.getextrema()[0] < 80  # dark text drawn in the last paragraph's box
