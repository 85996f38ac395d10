"""A display without a screen: each view is logged (a box with no screen, tests, benchmarks)."""

import logging
import threading
from collections.abc import Callable

from returnbox.views import Action, View

log = logging.getLogger(__name__)


class LogDisplay:
    """`views.Display` that logs every view and keeps the last ones; `tap` plays a patron."""

    def __init__(self, keep: int = 200) -> None:
        self.shown: list[View] = []
        self._keep = keep
        self._lock = threading.Lock()
        self._on_action: Callable[[Action], None] = lambda action: None

    def start(self, on_action: Callable[[Action], None]) -> None:
        """Remember where taps go."""
        self._on_action = on_action

    def show(self, view: View) -> None:
        """Log the view (screen, code, items and where they went)."""
        with self._lock:
            self.shown = [*self.shown[-self._keep + 1:], view]
        items = ", ".join(f"{i.barcode}→{i.refusal or i.bin}{'(queued)' if i.queued else ''}"
                          for i in view.items)
        log.info("display: %s%s%s", view.screen, f" [{view.code}]" if view.code else "",
                 f" {items}" if items else "")

    @property
    def last(self) -> View | None:
        """The view shown last."""
        with self._lock:
            return self.shown[-1] if self.shown else None

    def tap(self, action: Action) -> None:
        """A tap on the (absent) screen, reported as the real display would."""
        self._on_action(action)

    def close(self) -> None:
        """Nothing to close."""
