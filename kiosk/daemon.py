"""The kiosk daemon: config → device runtime, backend, readers, printer, terminal → the touch UI.

`Kiosk` holds everything but the screen, so tests and benchmarks drive it without Kivy;
`main` puts the Kivy app on top.
"""

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from edge_common import __version__
from edge_common.daemon_cli import daemon_command, run_until_stopped
from edge_common.errors import EdgeError
from edge_common.live_config import LiveConfig
from edge_common.printer import print_receipt
from edge_common.protocol.datasets import ALLOWLIST, MESSAGES
from edge_common.readers import CardRead, open_reader
from edge_common.runtime import DeviceRuntime
from kiosk.backend import Backend
from kiosk.central_backend import CentralBackend
from kiosk.config import KioskConfig
from kiosk.maintenance import Maintenance, RecentProblems
from kiosk.paper import printer_status
from kiosk.payment import PaymentResult, PaymentTerminal, SimulatedTerminal, TerminalOnWorker
from kiosk.session import Session, Settings
from kiosk.simulator import SimulatedBackend
from kiosk.sounds import open_sounder
from patron_ui.worker import SessionWorker

if TYPE_CHECKING:
    from kiosk.app import KioskApp

log = logging.getLogger(__name__)
RESTART = 75  # the exit code of a staff restart; the systemd unit starts the kiosk again


class NoTerminal:
    """The kiosk has no card terminal (paying is then refused before this is reached)."""

    def start(self, amount: int, currency: str,
              on_done: Callable[[PaymentResult], None]) -> None:
        """Never called: Settings.can_pay is off."""
        raise EdgeError("no payment terminal", code="payment_terminal_error")

    def cancel(self) -> None:
        """Nothing to cancel."""


def build_backend(
    cfg: KioskConfig, status: Callable[[], dict[str, Any]],
) -> tuple[Backend, DeviceRuntime | None]:
    """Central over the device runtime (which reports `status`), or the sample library."""
    if cfg.kiosk.backend == "simulated":
        return SimulatedBackend(), None
    runtime = DeviceRuntime(cfg.device, cfg.mqtt, cfg.outbox, version=__version__,
                            datasets=[ALLOWLIST, MESSAGES], status_extra=status)
    return CentralBackend(runtime, cfg.kiosk.offline_max_items), runtime


def build_terminal(cfg: KioskConfig) -> PaymentTerminal:
    """The configured card-payment terminal."""
    return SimulatedTerminal(cfg.payment.delay) if cfg.payment.kind == "simulated" \
        else NoTerminal()


class Kiosk:
    """One kiosk without its screen: runtime, backend, session, readers, printer, terminal."""

    def __init__(self, cfg: KioskConfig) -> None:
        self.config = LiveConfig(cfg, KioskConfig)
        cfg = self.cfg = self.config.current
        self.reader_states: dict[str, str] = {}
        self.backend, self.runtime = build_backend(cfg, lambda: {"readers": self.reader_states})
        if self.runtime:   # the kiosk takes only central's config, for its next start
            self.runtime.commands.route("config", self.config.keep_for_next_start)
        k = cfg.kiosk
        self.restart_requested = False
        self.stop_ui: Callable[[], None] = lambda: None
        self.worker = SessionWorker()
        self.session = Session(
            self.backend, TerminalOnWorker(build_terminal(cfg), self.worker), self.print_receipt,
            Settings(k.warning_after, k.logout_after, k.goodbye_for, k.pin_attempts,
                     can_pay=cfg.payment.kind != "none", can_print=cfg.printer.kind != "none",
                     languages=tuple(k.languages),
                     library=k.library, branch=k.branch_name, reader_at=k.reader_at),
            on_restart=self._restart, sounder=open_sounder(cfg.sound))
        self.worker.tick = self.session.tick
        self.readers = {"card_reader": open_reader(cfg.card_reader)}
        if cfg.scanner is not None:
            self.readers["scanner"] = open_reader(cfg.scanner)
        self.reader_states.update(dict.fromkeys(self.readers, "starting"))
        self.problems = RecentProblems()
        self.maintenance = Maintenance(self.runtime, lambda: printer_status(cfg.printer),
                                       self.problems, lambda: dict(self.reader_states))

    def start(self) -> None:
        """Connect to central, start the session thread and every reader."""
        logging.getLogger().addHandler(self.problems)
        if self.runtime:
            self.runtime.start()
        self.worker.start()
        for name, reader in self.readers.items():
            on_read = self._card if name == "card_reader" else self._scan
            reader.start(on_read, partial(self._state, name))

    def stop(self) -> None:
        """Stop readers, the session thread and the runtime."""
        for reader in self.readers.values():
            reader.stop()
        self.worker.stop()
        self.session.sounder.close()
        if self.runtime:
            self.runtime.stop()
        logging.getLogger().removeHandler(self.problems)

    def _restart(self) -> None:
        """Staff asked for a restart: close the screen; `run` then exits with RESTART."""
        log.warning("restart requested from the maintenance screen")
        self.restart_requested = True
        self.stop_ui()

    def _card(self, read: CardRead) -> None:
        self.worker.act(lambda: self.session.card(read.uid, read.kind))

    def _scan(self, read: CardRead) -> None:
        self.worker.act(lambda: self.session.barcode(read.uid))

    def _state(self, name: str, state: str, detail: str | None) -> None:
        self.reader_states[name] = state  # the reader logs its own losses

    def print_receipt(self, session: Session) -> None:
        """Print the session's receipt in the patron's language (raises PrinterUnavailable)."""
        print_receipt(self.cfg.printer, session.receipt_lines())


def build(cfg: KioskConfig) -> tuple[Kiosk, "KioskApp"]:
    """The kiosk and its Kivy app, not yet started."""
    from patron_ui import window

    window.configure(cfg.kiosk.width, cfg.kiosk.height, cfg.kiosk.fullscreen)
    from kiosk.app import KioskApp

    kiosk = Kiosk(cfg)
    return kiosk, KioskApp(kiosk.session, kiosk.worker, status=kiosk.maintenance.facts)


def run(cfg: KioskConfig) -> int:
    """Show the kiosk until SIGTERM (0) or a staff restart (RESTART)."""
    kiosk, app = build(cfg)
    from kivy.clock import Clock

    kiosk.stop_ui = lambda: Clock.schedule_once(lambda dt: app.stop(), 0)
    # Kivy's loop owns the main thread: a signal closes the app, and leaving it stops the rest.
    run_until_stopped(kiosk.start, kiosk.stop, serve=app.run, interrupt=kiosk.stop_ui)
    return RESTART if kiosk.restart_requested else 0


def _summary(cfg: KioskConfig) -> str:
    readers = ["card_reader"] + (["scanner"] if cfg.scanner else [])
    return f"{cfg.kiosk.backend} backend, {', '.join(readers)}"


@daemon_command(KioskConfig, "The kiosk", _summary)
def main(cfg: KioskConfig) -> None:
    """Run the self-service kiosk until SIGTERM."""
    raise SystemExit(run(cfg))


if __name__ == "__main__":
    main()
