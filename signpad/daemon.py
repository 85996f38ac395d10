"""The signing-pad daemon: config → device runtime, backend, card reader, the flow → the touch UI.

`Signpad` holds everything but the screen, so tests and benchmarks drive it without Kivy;
`main` puts the Kivy app on top.
"""

import logging
import os
from typing import TYPE_CHECKING, Any

import msgspec

from edge_common import __version__
from edge_common.daemon_cli import daemon_command, run_until_stopped
from edge_common.live_config import LiveConfig
from edge_common.protocol.commands import FormShowArgs
from edge_common.protocol.datasets import MESSAGES
from edge_common.protocol.forms import EVENTS
from edge_common.readers import CardRead, open_reader
from edge_common.runtime import DeviceRuntime
from patron_ui.worker import SessionWorker
from signpad.backend import PadBackend
from signpad.central import CentralPad
from signpad.config import SignpadConfig
from signpad.flow import Pad, Settings
from signpad.simulator import SimulatedPad

if TYPE_CHECKING:
    from signpad.app import SignpadApp

log = logging.getLogger(__name__)
SHOW = "form_show"  # central's command: a form is waiting for this pad


class Signpad:
    """One signing pad without its screen: runtime, backend, the flow on its worker, reader."""

    def __init__(self, cfg: SignpadConfig) -> None:
        self.config = LiveConfig(cfg, SignpadConfig)
        cfg = self.cfg = self.config.current
        self.reader_state = "starting"
        self.runtime: DeviceRuntime | None = None
        backend: PadBackend
        if cfg.pad.backend == "simulated":
            backend = SimulatedPad()
        else:
            # nothing of a form may stay on the pad once central has it: deleted rows are
            # zeroed and the write-ahead log emptied at each ack
            outbox = msgspec.structs.replace(cfg.outbox, secure_delete=True)
            self.runtime = DeviceRuntime(
                cfg.device, cfg.mqtt, outbox, version=__version__, datasets=[EVENTS, MESSAGES],
                status_extra=lambda: {"reader": self.reader_state})
            self.runtime.commands.route(SHOW, self._show)
            self.runtime.commands.route("config", self.config.keep_for_next_start)
            backend = CentralPad(self.runtime)
        p = cfg.pad
        self.pad = Pad(backend, cfg.device.id, Settings(
            lang=p.language, warning_after=p.warning_after, account_for=p.account_for,
            thanks_for=p.thanks_for, events_shown=p.events_shown))
        self.worker = SessionWorker(self.pad.tick)
        self.reader = open_reader(cfg.card_reader)

    def start(self) -> None:
        """Connect to central, start the flow's thread and the card reader."""
        if self.runtime:
            self.runtime.start()
        self.worker.start()
        self.reader.start(self._card, self._state)

    def stop(self) -> None:
        """Stop the reader, the flow's thread and the runtime."""
        self.reader.stop()
        self.worker.stop()
        if self.runtime:
            self.runtime.stop()

    def _show(self, args: FormShowArgs) -> dict[str, Any]:
        """Central's `form_show`: fetched on the flow's thread, never on the coordinator's."""
        self.worker.act(lambda: self.pad.fetch(args.form))
        return {"form": args.form}

    def _card(self, read: CardRead) -> None:
        self.worker.act(lambda: self.pad.card(read.uid, read.kind))

    def _state(self, state: str, detail: str | None) -> None:
        self.reader_state = state  # the reader logs its own losses


def configure_kivy(cfg: SignpadConfig) -> None:
    """Window settings Kivy reads at import time."""
    from patron_ui import window

    # Under software GL (Mesa llvmpipe, a tablet without a GPU driver) rasterising on helper
    # threads kept 60-90 MB more resident once the form's screens had scrolled; the pad draws
    # little, so it rasterises on its own thread. A GPU driver ignores this.
    os.environ.setdefault("LP_NUM_THREADS", "0")
    window.configure(cfg.pad.width, cfg.pad.height, cfg.pad.fullscreen)


def build(cfg: SignpadConfig) -> tuple[Signpad, "SignpadApp"]:
    """The pad and its Kivy app, not yet started."""
    configure_kivy(cfg)
    from signpad.app import SignpadApp

    pad = Signpad(cfg)
    return pad, SignpadApp(pad.pad, pad.worker, library=cfg.pad.library)


def run(cfg: SignpadConfig) -> None:
    """Show the pad until SIGTERM."""
    pad, app = build(cfg)
    from kivy.clock import Clock

    def stop_ui() -> None:
        Clock.schedule_once(lambda dt: app.stop(), 0)
    run_until_stopped(pad.start, pad.stop, serve=app.run, interrupt=stop_ui)


def _summary(cfg: SignpadConfig) -> str:
    return f"{cfg.pad.backend} backend, card reader {cfg.card_reader.name}"


@daemon_command(SignpadConfig, "The signing pad", _summary)
def main(cfg: SignpadConfig) -> None:
    """Run the signing pad until SIGTERM."""
    run(cfg)


if __name__ == "__main__":
    main()
