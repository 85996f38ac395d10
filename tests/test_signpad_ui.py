"""The Kivy signing pad offscreen: a real-touch tour of every screen in every language, in
normal colours, high contrast and large text; signatures drawn with finger strokes, cleared and
drawn again; the signed PDFs parsed back. The tour fails on any label cut off."""

import base64
import io

import msgspec
import pytest
from PIL import Image, ImageStat
from pypdf import PdfReader

from edge_common.catalogues import LANGUAGES
from edge_common.forms_hash import form_hash
from edge_common.protocol.forms import Signed
from patron_ui.palette import HIGH_CONTRAST, NORMAL
from patron_ui.tour import MODES
from signpad.screenshots import WAVE
from tests.patron_screens import TOURS, unfit_shots

SCREENS = ["01-idle", "02-account", "02-account-warning", "02-account-fees", "03-form",
           "04-correcting", "04-form-reported",
           "05-form-fixed", "06-terms", "07-terms-larger", "08-sign", "09-sign-guardian",
           "10-thanks", "11-sign-offline", "12-thanks-offline", "13-longest-message"]


pytestmark = TOURS


@pytest.fixture(params=list(MODES))
def shots(request, tours):
    return request.param, tours.shots("signpad.screenshots", request.param)


def test_every_screen_rendered_in_every_language_and_mode_with_nothing_cut_off(shots):
    mode, folder = shots
    assert unfit_shots(folder, MODES[mode], SCREENS, (1280, 800)) == []


def test_high_contrast_is_dark_and_normal_is_light(shots):
    mode, folder = shots
    mean = ImageStat.Stat(Image.open(folder / f"en-{MODES[mode]}03-form.png").convert(
        "L")).mean[0]
    assert mean < 60 if mode == "contrast" else mean > 180
    page = Image.open(folder / f"en-{MODES[mode]}01-idle.png").convert("RGB").getpixel((2, 2))
    assert page == tuple(round(c * 255) for c in
                         (HIGH_CONTRAST if mode == "contrast" else NORMAL).page[:3])


def test_languages_render_differently(shots):
    mode, folder = shots
    images = {lang: Image.open(folder / f"{lang}-{MODES[mode]}06-terms.png").convert(
        "L").tobytes() for lang in LANGUAGES}
    assert len(set(images.values())) == len(LANGUAGES)


def test_strokes_drawn_by_touch_are_captured_with_timing_and_a_clear_starts_afresh(shots):
    """The tour draws a wave and a cross, checks two strokes, clears, then draws the wave
    alone: each form carries exactly that, inside the box, in time order."""
    _, folder = shots
    signed = msgspec.json.decode((folder / "signed.json").read_bytes(), type=list[Signed])
    assert len(signed) == 2 * len(LANGUAGES)
    for form in signed:
        patron, guardian = form.signatures
        assert (patron.signer, guardian.signer) == ("patron", "guardian")
        [wave] = patron.strokes
        assert len(wave) == len(WAVE)
        assert all(0 <= x <= patron.width and 0 <= y <= patron.height for x, y, _ in wave)
        times = [t for _, _, t in wave]
        assert times == sorted(times)
        xs = [x for x, _, _ in wave]
        assert xs == sorted(xs) and xs[-1] - xs[0] > patron.width * 0.7
        [cross] = guardian.strokes
        assert len(cross) == 2 and cross[0][0] < cross[1][0] and cross[0][1] < cross[1][1]
    assert [f.revision for f in signed[:2]] == [2, 1]  # the corrected form, then a fresh one


def test_each_signed_pdf_parses_back_with_its_data_terms_and_hash(shots):
    _, folder = shots
    signed = msgspec.json.decode((folder / "signed.json").read_bytes(), type=list[Signed])
    for form in signed:
        pdf = base64.b64decode(form.pdf)
        assert form.sha256 == form_hash(pdf, form.signatures)
        assert len(pdf) <= 300_000
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert "2013-05-17" in text and "2026-1" in text and "pad-tour" in text
    first = " ".join(p.extract_text() for p in PdfReader(folder / "form.pdf").pages)
    assert "Ana Marija Novak" in first  # the corrected revision was signed
    page = Image.open(folder / "form.png")
    assert page.width < page.height  # A4 upright
