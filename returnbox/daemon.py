"""The return box daemon: `python -m returnbox.daemon --config FILE [--check-config]`.

With `[display] kind = "kivy"` Kivy's loop owns the main thread; without a screen every view
is logged.
"""

from edge_common.daemon_cli import daemon_command, run_until_stopped
from edge_common.gpio import pin_factory
from returnbox.box import ReturnBox
from returnbox.config import ReturnboxConfig


def _summary(cfg: ReturnboxConfig) -> str:
    sim = ", simulated belt" if cfg.simulator.belt else ""
    return f"{len(cfg.bins)} bins, {len(cfg.sorting.rules)} rules{sim}"


@daemon_command(ReturnboxConfig, "The return box", _summary)
def main(cfg: ReturnboxConfig) -> None:
    """Run the return box until SIGTERM or Ctrl-C."""
    if cfg.display.kind == "none":
        box = ReturnBox(cfg, pin_factory(cfg.gpio.pin_factory))
        run_until_stopped(box.start, box.stop)
        return
    from returnbox.display import KivyDisplay, Layout

    d = cfg.display
    display = KivyDisplay(Layout(library=cfg.box.library, width=d.width, height=d.height,
                                 fullscreen=d.fullscreen, chute_at=d.chute_at,
                                 reader_at=d.reader_at))
    box = ReturnBox(cfg, pin_factory(cfg.gpio.pin_factory), display)
    run_until_stopped(box.start, box.stop, serve=display.run, interrupt=display.close)


if __name__ == "__main__":
    main()
