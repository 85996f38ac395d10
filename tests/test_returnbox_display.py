"""The return box's display offscreen at 800×480: every screen in every language in normal
colours, high contrast and large text, views posted from another thread, real touches on its
buttons delivering the coordinator's actions; the tour fails on any label cut off."""

import json
import os
import subprocess
import sys
from datetime import date

import pytest
from PIL import Image, ImageStat

from edge_common.catalogues import LANGUAGES
from patron_ui.palette import HIGH_CONTRAST, NORMAL
from patron_ui.tour import MODES
from returnbox.display.rows import bin_rows, item_rows, staff_facts
from returnbox.i18n import Translator
from returnbox.views import BinState, ReturnedItem, StaffView
from tests.patron_screens import TOURS, unfit_shots

SCREENS = ["01-idle", "02-reading", "03-taken", "04-offline", "05-rejected",
           "06-rejected-unknown", "07-wait", "08-closed", "09-staff", "10-goodbye"]


pytestmark = TOURS


@pytest.fixture(params=list(MODES))
def shots(request, tours):
    return request.param, tours.shots("returnbox.screenshots", request.param)


def test_every_screen_rendered_in_every_language_and_mode_with_nothing_cut_off(shots):
    mode, folder = shots
    assert unfit_shots(folder, MODES[mode], SCREENS, (800, 480)) == []
    page = Image.open(folder / f"en-{MODES[mode]}01-idle.png").convert("RGB").getpixel((2, 2))
    assert page == tuple(round(c * 255) for c in (HIGH_CONTRAST if mode == "contrast"
                                                  else NORMAL).page[:3])
    mean = ImageStat.Stat(Image.open(folder / f"en-{MODES[mode]}03-taken.png").convert(
        "L")).mean[0]
    assert mean < 60 if mode == "contrast" else mean > 180
    texts = {lang: Image.open(folder / f"{lang}-{MODES[mode]}07-wait.png").tobytes()
             for lang in LANGUAGES}
    assert len(set(texts.values())) == len(LANGUAGES)


def test_touches_on_the_buttons_deliver_the_coordinators_actions(shots):
    """The tour taps the language, the three receipt choices, "bin emptied" on bin A, "restart
    belt" and "leave"; the e-mail button is absent without a card (the tour checks)."""
    _, folder = shots
    actions = [line for line in (folder / "stdout.txt").read_text().splitlines()
               if line.startswith("action ")]
    per_language = ["action finish_email", "action finish_print", "action finish_none",
                    "action bin_emptied A", "action belt_restart", "action leave_staff"]
    assert actions == [a for lang in LANGUAGES for a in [f"action language {lang}",
                                                         *per_language]]


def test_wired_as_a_daemon_does_shows_views_from_other_threads_and_closes_from_them(tmp_path):
    """A view shown before the window exists is drawn once it is; later views come from the
    coordinator's thread; a tap reaches the callback; close() from that thread ends run()."""
    env = os.environ | {"SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "tests.returnbox_display_probe"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {
        "screens": ["closed", "taken"], "taps": [["finish_none", None]], "thread": True}


def test_item_rows_say_where_each_item_went_and_what_else_to_know():
    t = Translator("en")
    rows = item_rows(t, (
        ReturnedItem("1", "Held", "hold_shelf", "H", pickup_by=date(2026, 12, 8)),
        ReturnedItem("2", "", "sort_later", "S", queued=True),
        ReturnedItem("3", "CD", "reshelve", "A", fine=50, warnings=("attachments", "x")),
        ReturnedItem("4", "Ours?", "reject", "", refusal="not_ours"),
        ReturnedItem("5", "New", "reject", "", refusal="brand_new_code")))
    assert [(r["icon"], r["level"]) for r in rows] == [
        ("bookmark-check", "ok"), ("inbox", "warn"), ("library", "warn"),
        ("block-helper", "bad"), ("block-helper", "bad")]
    assert rows[0]["detail"] == "Hold shelf, bin H · reserved: pick up by 8 Dec 2026"
    assert rows[1]["title"] == "2" and "will be confirmed later" in rows[1]["detail"]
    assert rows[2]["detail"] == ("Back to the shelves, bin A · late fee €0.50 · Please check "
                                 "that all parts are inside.")
    assert rows[3]["detail"] == "Not taken · This item does not belong to this library."
    assert rows[4]["detail"] == "Not taken · Please ask the library staff."  # never a code


def test_staff_facts_and_bins():
    staff = StaffView(bins=(BinState("A", 40, 40, True, ("9", "8")),), alarms=("jam", "odd"),
                      sensors=(("entry", True),), outbox=0, online=True, jammed="7")
    t = Translator("sl")
    assert staff_facts(t, staff) == [
        {"text": "Povezava s centralo: deluje", "level": "ok"},
        {"text": "Dogodki za pošiljanje: 0", "level": "ok"},
        {"text": "Zataknjeno gradivo: 7", "level": "bad"},
        {"text": "Alarmi: Gradivo zataknjeno na traku, odd", "level": "bad"},
        {"text": "Tipala: entry: vklopljeno", "level": "ok"}]
    assert bin_rows(t, staff) == [{"bin": "A", "count": "40 od 40 · poln", "barcodes": "9, 8",
                                   "full": True}]
    calm = StaffView(bins=(), alarms=(), sensors=(), outbox=2, online=False)
    assert [f["level"] for f in staff_facts(t, calm)] == ["bad", "warning", "ok"]
