"""The signing pad's screen as a pure step: the worker reads the Pad into an immutable View,
and Kivy draws that View on its own thread without reading the Pad."""

import dataclasses
import json
import os
import subprocess
import sys
from datetime import date

import pytest

from signpad.flow import Pad, Screen, Settings
from signpad.simulator import SimulatedPad
from signpad.view import PadView, view_of


def frozen_all_through(value: object) -> bool:
    """Whether nothing in `value` can be changed in place but its own freshly built dicts."""
    if isinstance(value, dict):
        return all(frozen_all_through(v) for v in value.values())
    if isinstance(value, tuple):
        return all(frozen_all_through(v) for v in value)
    return not isinstance(value, list | set | bytearray)


def test_a_view_is_a_frozen_snapshot_the_pad_moving_on_leaves_as_it_was():
    """A View taken on the form keeps showing that form after the patron reports a field and
    the desk's fix arrives; it cannot be changed, and holds no list the Pad could change."""
    backend = SimulatedPad()
    pad = Pad(backend, "pad-view", Settings(lang="en"))
    pad.fetch()
    before = view_of(pad, "Library", (), "", date.today())
    pad.wrong("name")
    backend.fix("name", "Ana Marija Novak")
    pad.fetch(1001)
    after = view_of(pad, "Library", (), "", date.today())
    assert before.screen == Screen.FORM and after.screen == Screen.FORM
    assert [f["reported"] for f in before.fields] == [False] * 5
    assert before.fields[0]["value"] == "Ana Novak"
    assert after.fields[0]["value"] == "Ana Marija Novak"
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.screen = Screen.IDLE  # type: ignore[misc]
    assert all(frozen_all_through(getattr(before, f.name)) for f in dataclasses.fields(PadView))


def test_views_are_built_on_the_worker_and_drawn_without_reading_the_pad(tmp_path):
    """Wired as the daemon wires it, every View is built on the session's thread; Kivy then
    draws them with the Pad made unreadable (any read of it there fails the probe)."""
    env = os.environ | {"SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(tmp_path / ".kivy")}
    run = subprocess.run([sys.executable, "-m", "tests.signpad_view_probe"], capture_output=True,
                         text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    drawn = json.loads(run.stdout.strip().splitlines()[-1])
    assert drawn == {"built_on": ["patron-session"], "screen": "correcting",
                     "heading": "Registration form", "t_ok": "All correct",
                     "reported": ["born"]}
