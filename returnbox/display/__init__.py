"""The return box's patron display on the shared Kivy theme (patron_ui): `KivyDisplay`."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from returnbox.views import Action, View

Towards = Literal["down", "left", "right"]


@dataclass(frozen=True)
class Layout:
    """The panel and where the parts a patron uses are on the machine."""

    library: str = ""
    width: int = 800
    height: int = 480
    fullscreen: bool = False
    chute_at: Towards = "down"    # where the item goes in, seen from the screen
    reader_at: Towards = "right"  # where the card reader is


class KivyDisplay:
    """`views.Display` on Kivy. Kivy's loop needs the main thread: `start(on_action)` returns
    at once, `run()` serves the window until `close()` (from any thread); `show()` may come
    from any thread at any time, and only the newest view is drawn."""

    def __init__(self, layout: Layout = Layout()) -> None:
        from patron_ui import window

        window.configure(layout.width, layout.height, layout.fullscreen)
        from returnbox.display.app import BoxApp

        self.app: BoxApp = BoxApp(layout)

    def start(self, on_action: Callable[[Action], None]) -> None:
        """Report taps to `on_action` from now on (called on Kivy's thread: it must only post)."""
        self.app.on_action = on_action

    def show(self, view: View) -> None:
        """Draw `view` on Kivy's thread soon; never blocks the caller."""
        self.app.post(view)

    def run(self) -> None:
        """Serve the window on this (the main) thread until `close()`."""
        self.app.run()

    def close(self) -> None:
        """Close the window (from any thread)."""
        from kivy.clock import Clock

        Clock.schedule_once(lambda dt: self.app.stop(), 0)
