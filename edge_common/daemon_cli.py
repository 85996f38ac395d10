"""What every daemon shares: `--config FILE [--check-config]`, its errors, running until stopped."""

import logging
import signal
import threading
from collections.abc import Callable
from typing import TypeVar

import click

from edge_common.config import load
from edge_common.errors import EdgeError

T = TypeVar("T")
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def daemon_command(
    schema: type[T], what: str, summary: Callable[[T], str] = lambda cfg: ""
) -> Callable[[Callable[[T], None]], click.Command]:
    """Turn `run(cfg)` into a click command that loads and checks the config file first."""
    def wrap(run: Callable[[T], None]) -> click.Command:
        @click.command(help=run.__doc__)
        @click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
                      help=f"{what}'s TOML configuration file.")
        @click.option("--check-config", is_flag=True, help="Check the configuration and exit.")
        def main(config_path: str, check_config: bool) -> None:
            logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
            try:
                cfg = load(config_path, schema)
            except EdgeError as exc:
                raise click.ClickException(f"{exc.code}: {exc}") from exc
            if check_config:
                detail = summary(cfg)
                click.echo(f"{config_path}: ok{f' ({detail})' if detail else ''}")
                return
            run(cfg)
        return main
    return wrap


def run_until_stopped(start: Callable[[], None], stop: Callable[[], None], *,
                      serve: Callable[[], None] | None = None,
                      interrupt: Callable[[], None] | None = None) -> None:
    """Start, serve until SIGTERM or SIGINT, then stop; `stop` runs on every path.

    By default serving is waiting for the signal. A daemon whose main thread runs a loop of
    its own (the kiosk's Kivy app) passes that loop as `serve` and, as `interrupt`, what ends
    it from a signal handler. `stop` also runs when `start` raised half-way, so it must cope
    with parts that never started. The previous signal handlers are put back at the end.
    """
    stopped = threading.Event()
    wait: Callable[[], object] = serve or stopped.wait
    end: Callable[[], None] = interrupt or stopped.set
    previous = {sig: signal.signal(sig, lambda *_: end())
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        start()
        wait()
    finally:
        try:
            stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
