"""The return box daemon: `python -m returnbox.daemon --config FILE [--check-config]`.

Without a screen (or until the Kivy display is wired in) every view is logged.
"""

from edge_common.daemon_cli import daemon_command, run_until_stopped
from lockd.daemon import pin_factory
from returnbox.box import ReturnBox
from returnbox.config import ReturnboxConfig


def _summary(cfg: ReturnboxConfig) -> str:
    sim = ", simulated belt" if cfg.simulator.belt else ""
    return f"{len(cfg.bins)} bins, {len(cfg.sorting.rules)} rules{sim}"


@daemon_command(ReturnboxConfig, "The return box", _summary)
def main(cfg: ReturnboxConfig) -> None:
    """Run the return box until SIGTERM or Ctrl-C."""
    box = ReturnBox(cfg, pin_factory(cfg.gpio.pin_factory))
    run_until_stopped(box.start, box.stop)


if __name__ == "__main__":
    main()
