"""The Kivy kiosk offscreen: a real-touch tour of every screen in every language, in normal
colours, high contrast and large text, as PNGs; the tour fails on any label cut off."""

import pytest
from PIL import Image, ImageStat

from kiosk.i18n import LANGUAGES
from patron_ui.palette import HIGH_CONTRAST, NORMAL, Colour
from patron_ui.tour import MODES
from tests.patron_screens import TOURS, unfit_shots

SCREENS = ["01-idle", "02-pin", "03-account", "04-checkout", "04-checkout-more",
           "05-renew-chosen", "06-renewed", "07-pay-chosen", "08-paying", "09-offline",
           "10-countdown", "11-receipt", "12-goodbye", "13-maintenance", "14-unknown-card",
           "15-longest-message"]


pytestmark = TOURS


@pytest.fixture(params=list(MODES))
def shots(request, tours):
    return request.param, tours.shots("kiosk.screenshots", request.param)


def rgb(colour: Colour) -> tuple[int, ...]:
    return tuple(round(c * 255) for c in colour[:3])


def test_every_screen_rendered_in_every_language_and_mode_with_nothing_cut_off(shots):
    mode, folder = shots
    assert unfit_shots(folder, MODES[mode], SCREENS, (1280, 800)) == []


def test_high_contrast_is_dark_and_normal_is_light(shots):
    mode, folder = shots
    mean = ImageStat.Stat(Image.open(folder / f"en-{MODES[mode]}03-account.png").convert(
        "L")).mean[0]
    assert mean < 60 if mode == "contrast" else mean > 200
    page = Image.open(folder / f"en-{MODES[mode]}01-idle.png").convert("RGB").getpixel((2, 2))
    assert page == rgb((HIGH_CONTRAST if mode == "contrast" else NORMAL).page)


def test_languages_render_differently(shots):
    mode, folder = shots
    images = {lang: Image.open(folder / f"{lang}-{MODES[mode]}03-account.png").convert(
        "L").tobytes() for lang in LANGUAGES}
    assert len(set(images.values())) == len(LANGUAGES)


def test_maintenance_shows_facts_coloured_by_level_and_restarts_on_touch(shots):
    mode, folder = shots
    colours = HIGH_CONTRAST if mode == "contrast" else NORMAL
    for lang in LANGUAGES:
        image = Image.open(folder / f"{lang}-{MODES[mode]}13-maintenance.png").convert("RGB")
        marks = {image.getpixel((20, y)) for y in range(140, 600, 3)}
        assert {rgb(colours.ok), rgb(colours.warn), rgb(colours.bad)} <= marks, (lang, marks)
    assert (folder / "stdout.txt").read_text().count("restart requested") == len(LANGUAGES)


def test_a_chosen_row_shows_a_ticked_box_and_the_countdown_a_shrinking_bar(shots):
    """The tour itself checks the chosen ids against the ticked boxes; here the pixels."""
    mode, folder = shots
    colours = HIGH_CONTRAST if mode == "contrast" else NORMAL
    chosen = Image.open(folder / f"en-{MODES[mode]}05-renew-chosen.png").convert("RGB")
    account = Image.open(folder / f"en-{MODES[mode]}03-account.png").convert("RGB")
    accent = rgb(colours.accent)
    assert sum(p == accent for p in chosen.getdata()) > sum(p == accent for p in
                                                            account.getdata())
    countdown = Image.open(folder / f"en-{MODES[mode]}10-countdown.png").convert("RGB")
    warn = rgb(colours.warn)
    assert sum(p == warn for p in countdown.getdata()) > 20_000
