"""The settings Kivy reads when it is imported and when it creates the window: set them before
(a device's daemon does, before it imports its app)."""

import os


def configure(width: int, height: int, fullscreen: bool = False) -> None:
    """A window of `width`×`height` (or the whole screen), without the multisampling a flat
    screen does not need (30 MB less memory) and not closed by the Escape key; Kivy leaves the
    daemon's arguments and console alone."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "multisamples", "0")
    Config.set("kivy", "exit_on_escape", "0")
