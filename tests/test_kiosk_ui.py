"""The Kivy kiosk offscreen: a real-touch tour of every screen in every language, as PNGs."""

import os
import subprocess
import sys

import pytest
from PIL import Image, ImageStat

from kiosk.i18n import LANGUAGES

SCREENS = ["01-idle", "02-pin", "03-account", "04-checkout", "05-renew", "06-pay", "07-paying",
           "08-offline", "09-receipt", "10-goodbye", "11-maintenance", "12-unknown-card",
           "13-accessible"]


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    out = tmp_path_factory.mktemp("screens")
    env = os.environ | {"SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(out / ".kivy")}
    run = subprocess.run([sys.executable, "-m", "kiosk.screenshots", "--out", str(out)],
                         capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    (out / "stdout.txt").write_text(run.stdout)
    return out


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_screen_rendered_in_every_language(shots, lang):
    for screen in SCREENS:
        image = Image.open(shots / f"{lang}-{screen}.png").convert("RGB")
        assert image.size == (1280, 800)
        assert max(hi - lo for lo, hi in image.getextrema()) > 100, f"{lang}-{screen} is blank"


def test_high_contrast_is_dark_and_normal_is_light(shots):
    dark = ImageStat.Stat(Image.open(shots / "en-13-accessible.png").convert("L")).mean[0]
    light = ImageStat.Stat(Image.open(shots / "en-01-idle.png").convert("L")).mean[0]
    assert dark < 60 < 200 < light


def test_languages_render_differently(shots):
    images = {lang: Image.open(shots / f"{lang}-03-account.png").convert("L").tobytes()
              for lang in LANGUAGES}
    assert len(set(images.values())) == len(LANGUAGES)


def test_maintenance_shows_facts_coloured_by_level_and_restarts_on_touch(shots):
    ok, warning, error = (31, 128, 64), (191, 115, 5), (178, 31, 31)  # OK, WARN, BAD in kiosk.kv
    for lang in LANGUAGES:
        image = Image.open(shots / f"{lang}-11-maintenance.png").convert("RGB")
        marks = {image.getpixel((20, y)) for y in range(140, 460, 4)}
        assert {ok, warning, error} <= marks, (lang, marks)
    assert (shots / "stdout.txt").read_text().count("restart requested") == len(LANGUAGES)
